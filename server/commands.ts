/**
 * The commands table: each request kind's handler runs it against the store
 * and writes memcached's reply. Handlers know the store's API, not its
 * insides; the store knows nothing of the wire.
 *
 * @module
 */

import { REPLY, type ReplyName } from "../protocol/replies.ts";
import type { Request, RetrievalRequest, StorageRequest } from "../protocol/request_parser.ts";
import { writeValueHeader } from "../protocol/response_encoder.ts";
import type { WriteBuffer } from "../protocol/write_buffer.ts";
import type { Store } from "./_store.ts";
import { MetaHandler } from "./meta.ts";
import { PrefixStats } from "./prefix_stats.ts";
import type { ServerStats, Settings } from "./stats.ts";

/** What the connection does after a request. */
export enum Outcome {
  /** Read on. */
  Continue,
  /** The reply buffer is past its mark mid-request: write it, then call `resume`. */
  More,
  /** Write what is buffered, then close the connection. */
  Close,
}

/** A connection as the handler sees it: what `stats conns` shows, and where its replies stand. */
export interface ConnectionInfo {
  readonly id: number;
  readonly addr: Deno.NetAddr;
  readonly listenAddr: Deno.NetAddr;
  lastCommandTime: number;
  state: string;
  /**
   * How much of the reply buffer memcached would already have sent: it
   * writes after each completed retrieval and every 20 requests. A get with
   * an over-long key discards the replies queued after this point.
   */
  sentMark: number;
  /** Requests handled since the last write. */
  requests: number;
  /** A retrieval paused so the connection could write: the request, then its next key. */
  pending: RetrievalRequest | undefined;
  pendingIndex: number;
}

/** memcached answers this many requests of one connection before it writes (`-R`). */
const REQUESTS_PER_EVENT = 20;

/** What the handler may ask of the server around it. */
export interface ServerControl {
  shutdown(): void;
  connections(): ConnectionInfo[];
  listeners(): Deno.NetAddr[];
}

/** Past this many reply bytes, a retrieval pauses so the connection can write. */
const RETRIEVAL_HIGH_WATER = 1024 * 1024;
const CRLF = REPLY.END.subarray(3);

/** Runs requests against the store and writes memcached's replies. */
export class CommandHandler {
  #store: Store;
  #stats: ServerStats;
  #settings: Settings;
  #control: ServerControl;
  #prefixes = new PrefixStats();
  #meta: MetaHandler;

  constructor(store: Store, stats: ServerStats, settings: Settings, control: ServerControl) {
    this.#store = store;
    this.#stats = stats;
    this.#settings = settings;
    this.#control = control;
    this.#meta = new MetaHandler(store, stats);
  }

  /** Runs one request, appending its reply (if any) to `out`. */
  handle(request: Request, out: WriteBuffer, connection: ConnectionInfo): Outcome {
    if (this.#settings.verbosity > 1) console.error(`<${connection.id} ${describe(request)}`);
    const outcome = this.#run(request, out, connection);
    if (++connection.requests % REQUESTS_PER_EVENT === 0) connection.sentMark = out.length;
    return outcome;
  }

  #run(request: Request, out: WriteBuffer, connection: ConnectionInfo): Outcome {
    switch (request.type) {
      case "storage":
        this.#storage(request, out);
        return Outcome.Continue;
      case "retrieval":
        connection.pending = request;
        connection.pendingIndex = 0;
        return this.resume(out, connection);
      case "delete":
        if (this.#prefixes.enabled) this.#prefixes.recordDelete(request.key);
        reply(out, this.#store.delete(request.key) ? "DELETED" : "NOT_FOUND", request.noreply);
        return Outcome.Continue;
      case "arithmetic": {
        const result = request.command === "incr"
          ? this.#store.incr(request.key, request.delta)
          : this.#store.decr(request.key, request.delta);
        if (result === "NOT_FOUND" || result === "NON_NUMERIC") {
          reply(out, result, request.noreply);
        } else if (result === "NO_MEMORY") {
          reply(out, "OUT_OF_MEMORY", request.noreply);
        } else {
          if (!request.noreply) {
            out.decimal(result);
            out.bytes(CRLF);
          }
        }
        return Outcome.Continue;
      }
      case "touch": {
        const touched = this.#store.touch(request.key, request.exptime) >= 0;
        reply(out, touched ? "TOUCHED" : "NOT_FOUND", request.noreply);
        return Outcome.Continue;
      }
      case "flush_all":
        this.#stats.cmdFlush++;
        this.#store.flushAll(request.delay);
        reply(out, "OK", request.noreply);
        return Outcome.Continue;
      case "stats":
        this.#statsCommand(request.args, out);
        return Outcome.Continue;
      case "version":
        out.latin1(`VERSION ${this.#settings.version}\r\n`);
        return Outcome.Continue;
      case "verbosity":
        this.#settings.verbosity = Math.min(request.level, 2);
        reply(out, "OK", request.noreply);
        return Outcome.Continue;
      case "quit":
        return Outcome.Close;
      case "shutdown":
        if (!this.#settings.enableShutdown) {
          reply(out, "SHUTDOWN_NOT_ENABLED", false);
          return Outcome.Continue;
        }
        if (
          request.args.length === 0 || (request.args.length === 1 && request.args[0] === "graceful")
        ) {
          this.#control.shutdown();
          return Outcome.Close;
        }
        reply(out, "INVALID_SHUTDOWN_MODE", false);
        return Outcome.Continue;
      case "meta":
        // mn makes memcached write what it has buffered.
        if (this.#meta.handle(request, out)) connection.sentMark = out.length;
        return Outcome.Continue;
      case "invalid":
        reply(out, request.reply, request.noreply);
        return Outcome.Continue;
    }
  }

  /** Answers the keys of a paused retrieval, pausing again when the buffer fills. */
  resume(out: WriteBuffer, connection: ConnectionInfo): Outcome {
    const request = connection.pending;
    if (request === undefined) return Outcome.Continue;
    const store = this.#store;
    const touch = request.command === "gat" || request.command === "gats";
    const withCas = request.command === "gets" || request.command === "gats";
    const keys = request.keys;
    // A multi-get reads its keys' index entries a batch ahead, so their cache misses overlap.
    let ahead = keys.length > 1 ? connection.pendingIndex : keys.length;
    for (let i = connection.pendingIndex; i < keys.length; i++) {
      if (i === ahead) ahead += store.prefetch(keys, i);
      const slot = touch ? store.touch(keys[i], request.exptime) : store.get(keys[i]);
      if (this.#prefixes.enabled) this.#prefixes.recordGet(keys[i], slot >= 0);
      if (slot < 0) continue;
      const value = store.items.value(slot);
      writeValueHeader(
        out,
        store.items.key(slot),
        store.items.flags(slot),
        value.length,
        withCas ? store.items.casUnique(slot) : undefined,
      );
      out.bytes(value);
      out.bytes(CRLF);
      if (out.length >= RETRIEVAL_HIGH_WATER && i + 1 < keys.length) {
        connection.pendingIndex = i + 1;
        return Outcome.More;
      }
    }
    connection.pending = undefined;
    if (request.badKey) {
      // memcached drops every reply it has not sent yet, this get's hits included.
      out.truncate(connection.sentMark);
      out.bytes(REPLY.BAD_COMMAND_LINE_FORMAT);
    } else {
      out.bytes(REPLY.END);
      connection.sentMark = out.length;
    }
    return Outcome.Continue;
  }

  #storage(request: StorageRequest, out: WriteBuffer): void {
    const store = this.#store;
    const stats = this.#stats;
    if (this.#prefixes.enabled) this.#prefixes.recordSet(request.key);
    if (request.status === "too_large") {
      stats.storeTooLarge++;
      // memcached drops the old value when a set is refused, so no stale value survives.
      if (request.command === "set") store.delete(request.key);
      reply(out, "TOO_LARGE", request.noreply);
      return;
    }
    if (request.status === "bad_chunk") {
      // memcached counts the set before it finds the data block bad.
      stats.badChunkSets++;
      reply(out, "BAD_DATA_CHUNK", request.noreply);
      return;
    }
    const { key, flags, exptime, data } = request;
    let result;
    switch (request.command) {
      case "append":
      case "prepend":
        result = store[request.command](key, data);
        break;
      case "cas":
        result = store.cas(key, flags, exptime, data, request.cas);
        break;
      default:
        result = store[request.command](key, flags, exptime, data);
    }
    switch (result) {
      case "TOO_LARGE":
        stats.storeTooLarge++;
        reply(out, "TOO_LARGE", request.noreply);
        return;
      case "NO_MEMORY":
        stats.storeNoMemory++;
        reply(out, "OUT_OF_MEMORY_STORING", request.noreply);
        return;
      default:
        reply(out, result, request.noreply);
    }
  }

  #statsCommand(args: string[], out: WriteBuffer): void {
    const group = args[0];
    if (group === undefined) {
      this.#stats.writeGeneral(out, this.#store);
    } else if (group === "reset") {
      this.#stats.reset();
      this.#store.resetStats();
      out.bytes(REPLY.RESET);
      return;
    } else if (group === "settings") {
      this.#stats.writeSettings(out, this.#store);
    } else if (group === "items") {
      this.#stats.writeItems(out, this.#store);
    } else if (group === "slabs") {
      this.#stats.writeSlabs(out, this.#store);
    } else if (group === "detail") {
      const action = args[1];
      if (action === "on" || action === "off") {
        this.#prefixes.enabled = action === "on";
        out.bytes(REPLY.OK);
      } else if (action === "dump") {
        this.#prefixes.dump(out);
      } else {
        out.latin1("CLIENT_ERROR usage: stats detail on|off|dump\r\n");
      }
      return;
    } else if (group === "sizes") {
      out.latin1("STAT sizes_status disabled\r\n");
    } else if (group === "conns") {
      this.#stats.writeConns(out, this.#control.listeners(), this.#control.connections());
    } else {
      out.bytes(REPLY.ERROR);
      return;
    }
    out.bytes(REPLY.END);
  }
}

function reply(out: WriteBuffer, name: ReplyName, noreply: boolean): void {
  if (!noreply) out.bytes(REPLY[name]);
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** One line for -vv logging. */
function describe(request: Request): string {
  switch (request.type) {
    case "storage":
      return `${request.command} ${
        latin1(request.key)
      } ${request.flags} ${request.exptime} ${request.data.length}`;
    case "retrieval":
      return `${request.command} ${request.keys.map(latin1).join(" ")}`;
    case "delete":
    case "touch":
      return `${request.type} ${latin1(request.key)}`;
    case "arithmetic":
      return `${request.command} ${latin1(request.key)} ${request.delta}`;
    case "stats":
    case "shutdown":
      return [request.type, ...request.args].join(" ");
    case "meta":
      return `${request.command} ${latin1(request.key)}`;
    case "invalid":
      return `(invalid: ${request.reply})`;
    default:
      return request.type;
  }
}
