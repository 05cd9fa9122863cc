/**
 * The commands table: each request kind's handler runs it against the store
 * and writes memcached's reply. Handlers know the store's API, not its
 * insides; the store knows nothing of the wire.
 *
 * @module
 */

import { parseI32, parseU32 } from "../protocol/_numbers.ts";
import { REPLY, type ReplyName } from "../protocol/replies.ts";
import type { Request, RetrievalRequest, StorageRequest } from "../protocol/requests.ts";
import { writeValueHeader } from "../protocol/response_encoder.ts";
import type { WriteBuffer } from "../protocol/write_buffer.ts";
import { LruCrawler } from "./_crawler.ts";
import { Logger, type StoreStatus, WATCHER_LIMIT, watchFlags } from "./_logger.ts";
import { type LogStore, MetaHandler } from "./_meta_commands.ts";
import { PrefixStats } from "./_prefix_stats.ts";
import { replyLine, requestLine, sendingKeyLine } from "./_verbose_log.ts";
import type { ServerStats } from "./_stats.ts";
import type { Store } from "./_store.ts";
import type {
  ConnectionInfo,
  ItemView,
  PinnedValue,
  ServerControl,
  Settings,
  StoreResult,
} from "./_types.ts";
import { relativeExptime } from "./clock.ts";

/** Every request but a retrieval, which {@linkcode CommandHandler.prototype.retrieve} answers. */
export type NonRetrieval = Exclude<Request, RetrievalRequest>;

/** Past this many reply bytes, a retrieval pauses so the connection can write. */
const RETRIEVAL_HIGH_WATER = 256 * 1024;
/** From this size a value is written from its page instead of copied into the reply. */
const STREAMED_VALUE = 256 * 1024;
const CRLF = REPLY.END.subarray(3);
/** A storage command's result as memcached's `item_store` lines name it. */
const STORE_STATUS: Record<StoreResult, StoreStatus> = {
  STORED: "stored",
  NOT_STORED: "not_stored",
  EXISTS: "exists",
  NOT_FOUND: "not_found",
  TOO_LARGE: "too_large",
  NO_MEMORY: "no_memory",
};

const latin1Bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** memcached's replies to `slabs reassign` by result. */
const REASSIGN_REPLIES = {
  OK: "OK",
  SAME: "SAME src and dst class are identical",
  BADCLASS: "BADCLASS invalid src or dst class id",
  NOSPARE: "NOSPARE source class has no spare pages",
  BUSY: "BUSY currently processing reassign request",
} as const;

/** C's strtol over a whole token, as memcached's safe_strtol: undefined when it refuses. */
function safeStrtol(text: string): number | undefined {
  return parseI32(latin1Bytes(text), 0, text.length);
}

/** C's strtod over a whole token, as memcached's safe_strtod, for the decimal forms clients send. */
function safeStrtod(text: string): number | undefined {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Runs requests against the store and writes memcached's replies. */
export class CommandHandler {
  #store: Store;
  #stats: ServerStats;
  #settings: Settings;
  #control: ServerControl;
  #prefixes: PrefixStats;
  #meta: MetaHandler;
  #crawler: LruCrawler;
  #logger: Logger;
  #items: ItemView;
  /** The reply a noreply request did not send, for the -vv log. */
  #silenced: Uint8Array | string | undefined;
  /** A large value the last retrieval left for the connection to write from its page. */
  #pinned: PinnedValue | undefined;

  constructor(
    store: Store,
    stats: ServerStats,
    settings: Settings,
    control: ServerControl,
    logger: Logger = new Logger(),
  ) {
    this.#logger = logger;
    this.#store = store;
    this.#items = store.items;
    this.#stats = stats;
    this.#settings = settings;
    this.#control = control;
    this.#meta = new MetaHandler(store, stats, (request, status) => {
      if (this.#logger.mutations) this.#logStore(request, status);
    });
    this.#prefixes = new PrefixStats(settings.prefixDelimiter.charCodeAt(0));
    this.#prefixes.enabled = settings.detailEnabled;
    this.#crawler = new LruCrawler(store, settings);
  }

  /**
   * Runs one request other than a retrieval, appending its reply (if any) to `out`.
   *
   * @returns Whether the connection stays open: false after `quit` or `shutdown`.
   */
  handle(request: NonRetrieval, out: WriteBuffer, connection: ConnectionInfo): boolean {
    this.#log(request, connection);
    this.#logger.connection = connection.id;
    const start = out.length;
    this.#silenced = undefined;
    const open = this.#run(request, out, connection);
    if (this.#settings.verbosity > 1) this.#logReply(request, out, start, connection.id);
    this.#counted(out, connection);
    return open;
  }

  /**
   * Answers a retrieval's keys from `from` on, stopping once the reply
   * buffer passes its mark so the connection can write it first.
   *
   * @returns The index of the next key to answer, or -1 when the reply is complete.
   */
  retrieve(
    request: RetrievalRequest,
    from: number,
    out: WriteBuffer,
    connection: ConnectionInfo,
  ): number {
    if (from === 0) this.#log(request, connection);
    this.#logger.connection = connection.id;
    const store = this.#store;
    const items = this.#items;
    const touch = request.command === "gat" || request.command === "gats";
    const withCas = request.command === "gets" || request.command === "gats";
    const keys = request.keys;
    const verbose = this.#settings.verbosity > 1;
    let next = -1;
    // A multi-get reads its keys' index entries a batch ahead, so their cache misses overlap.
    let ahead = keys.length > 1 ? from : keys.length;
    for (let i = from; i < keys.length; i++) {
      if (i === ahead) ahead += store.prefetch(keys, i);
      const slot = touch ? store.touch(keys[i], request.exptime) : store.get(keys[i]);
      if (this.#prefixes.enabled) this.#prefixes.recordGet(keys[i], slot >= 0);
      if (slot < 0) continue;
      const value = items.value(slot);
      writeValueHeader(
        out,
        items.key(slot),
        items.flags(slot),
        value.length,
        withCas ? items.casUnique(slot) : undefined,
      );
      if (verbose) console.error(`>${connection.id} ${sendingKeyLine(keys[i])}`);
      // A large value is written from its page, not copied per reader; a bad key drops every hit unsent.
      if (value.length >= STREAMED_VALUE && !request.badKey) {
        this.#pinned = store.pinValue(slot);
        next = i + 1;
        break;
      }
      out.bytes(value);
      out.bytes(CRLF);
      if (out.length >= RETRIEVAL_HIGH_WATER && i + 1 < keys.length) {
        next = i + 1;
        break;
      }
    }
    if (next < 0) {
      if (verbose) console.error(`>${connection.id} END`);
      if (request.badKey) {
        if (verbose) console.error(`>${connection.id} CLIENT_ERROR bad command line format`);
        // memcached drops every reply it has not sent yet, this get's hits included.
        out.truncate(connection.sentMark);
        out.bytes(REPLY.BAD_COMMAND_LINE_FORMAT);
      } else {
        out.bytes(REPLY.END);
        connection.sentMark = out.length;
      }
    }
    if (from === 0) this.#counted(out, connection);
    return next;
  }

  /**
   * The value the last {@linkcode CommandHandler.prototype.retrieve} left to
   * the connection to write after the reply so far, then its CRLF; release it
   * once written.
   *
   * @returns The value, or undefined when the reply holds every value.
   */
  takePinned(): PinnedValue | undefined {
    const pinned = this.#pinned;
    this.#pinned = undefined;
    return pinned;
  }

  /**
   * The rest of the reply the last {@linkcode CommandHandler.prototype.handle}
   * left to be written a batch at a time (a large `lru_crawler metadump`):
   * each call appends the next batch to `out` and says whether more remain.
   *
   * @returns The continuation, or undefined when the reply was whole.
   */
  takeContinuation(): ((out: WriteBuffer) => boolean) | undefined {
    return this.#crawler.takeDump();
  }

  #log(request: Request, connection: ConnectionInfo): void {
    if (this.#settings.verbosity > 1) console.error(`<${connection.id} ${requestLine(request)}`);
  }

  /** memcached's reply for `name`, or with `noreply` none, kept for the -vv log. */
  #reply(out: WriteBuffer, name: ReplyName, noreply: boolean): void {
    if (noreply) this.#silenced = REPLY[name];
    else out.bytes(REPLY[name]);
  }

  /** -vv: the reply just written from `start` on, or the one noreply silenced, as memcached logs it. */
  #logReply(request: NonRetrieval, out: WriteBuffer, start: number, id: number): void {
    const line = replyLine(request, out.view().subarray(start), this.#silenced);
    if (line !== undefined) console.error(`>${id} ${line}`);
  }

  /**
   * memcached writes once a turn's `-R` requests are done: what it
   * has buffered by then counts as sent. The first turn of a read serves one
   * more, since it starts parsing without counting one (21, 41, 61, ...).
   * There memcached also yields to its other connections (`conn_yields`).
   */
  #counted(out: WriteBuffer, connection: ConnectionInfo): void {
    const n = ++connection.requests;
    if (n > 1 && n % this.#settings.requestsPerEvent === 1) {
      connection.sentMark = out.length;
      connection.yieldDue = true;
      this.#stats.connYields++;
    }
  }

  /** Whether the connection stays open. */
  #run(request: NonRetrieval, out: WriteBuffer, connection: ConnectionInfo): boolean {
    switch (request.type) {
      case "storage":
        this.#storage(request, out);
        return true;
      case "delete":
        if (this.#prefixes.enabled) this.#prefixes.recordDelete(request.key);
        this.#reply(
          out,
          this.#store.delete(request.key) ? "DELETED" : "NOT_FOUND",
          request.noreply,
        );
        return true;
      case "arithmetic": {
        const result = request.command === "incr"
          ? this.#store.incr(request.key, request.delta)
          : this.#store.decr(request.key, request.delta);
        if (result === "NOT_FOUND" || result === "NON_NUMERIC") {
          this.#reply(out, result, request.noreply);
        } else if (result === "NO_MEMORY") {
          this.#reply(out, "OUT_OF_MEMORY", request.noreply);
        } else if (!request.noreply) {
          out.decimal(result);
          out.bytes(CRLF);
        } else if (this.#settings.verbosity > 1) {
          this.#silenced = String(result);
        }
        return true;
      }
      case "touch": {
        const touched = this.#store.touch(request.key, request.exptime) >= 0;
        this.#reply(out, touched ? "TOUCHED" : "NOT_FOUND", request.noreply);
        return true;
      }
      case "flush_all":
        this.#stats.cmdFlush++;
        // As memcached: with -F the command still counts in cmd_flush.
        if (!this.#settings.flushEnabled) {
          this.#reply(out, "FLUSH_NOT_ALLOWED", request.noreply);
          return true;
        }
        this.#store.flushAll(request.delay);
        this.#reply(out, "OK", request.noreply);
        return true;
      case "stats":
        this.#statsCommand(request.args, out);
        return true;
      case "version":
        out.latin1(`VERSION ${this.#settings.version}\r\n`);
        return true;
      case "verbosity":
        this.#settings.verbosity = Math.min(request.level, 2);
        this.#reply(out, "OK", request.noreply);
        return true;
      case "quit":
        return false;
      case "shutdown":
        if (!this.#settings.enableShutdown) {
          this.#reply(out, "SHUTDOWN_NOT_ENABLED", false);
          return true;
        }
        if (
          request.args.length === 0 || (request.args.length === 1 && request.args[0] === "graceful")
        ) {
          this.#control.shutdown();
          return false;
        }
        this.#reply(out, "INVALID_SHUTDOWN_MODE", false);
        return true;
      case "cache_memlimit":
        this.#memlimit(request.megabytes, request.noreply, out);
        return true;
      case "slabs":
        this.#slabs(request.args, out);
        return true;
      case "meta":
        // mn makes memcached write what it has buffered.
        if (this.#meta.handle(request, out)) connection.sentMark = out.length;
        return true;
      case "refresh_certs": {
        const error = this.#control.refreshCerts();
        // memcached's noreply silences the OK, never the error.
        if (error !== undefined) out.latin1(`${error}\r\n`);
        else this.#reply(out, "OK", request.noreply);
        return true;
      }
      case "lru_crawler":
        if (this.#crawler.command(request.args, out, out.length > connection.sentMark)) {
          connection.sentMark = out.length;
          connection.parked = true;
        }
        return true;
      case "watch":
        this.#watch(request.args, out, connection);
        return true;
      case "invalid":
        this.#reply(out, request.reply, request.noreply);
        return true;
    }
  }

  /** A reply line of memcached's out_string, which noreply silences whatever it says. */
  #line(out: WriteBuffer, text: string, noreply: boolean): void {
    if (noreply) this.#silenced = text;
    else out.latin1(`${text}\r\n`);
  }

  /** `cache_memlimit`, as memcached's process_memlimit_command answers it. */
  #memlimit(megabytes: number, noreply: boolean, out: WriteBuffer): void {
    if (megabytes < 0) return this.#line(out, "ERROR", noreply);
    if (megabytes < 8) {
      return this.#line(out, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m", noreply);
    }
    if (megabytes > 1_000_000_000) {
      return this.#line(out, "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes", noreply);
    }
    const bytes = megabytes * 1024 * 1024;
    this.#settings.memoryLimit = bytes;
    this.#store.operator.setMemoryLimit(bytes);
    if (this.#settings.verbosity > 0) console.error(`maxbytes adjusted to ${megabytes}m`);
    this.#line(out, "OK", noreply);
  }

  /** `slabs reassign` and `slabs automove`, as memcached's process_slabs_command answers them. */
  #slabs(args: string[], out: WriteBuffer): void {
    const settings = this.#settings;
    if (args.length === 3 && args[0] === "reassign") {
      if (!settings.slabReassign) {
        return this.#line(out, "CLIENT_ERROR slab reassignment disabled", false);
      }
      const src = safeStrtol(args[1]);
      const dst = safeStrtol(args[2]);
      if (src === undefined || dst === undefined) {
        return this.#line(out, "CLIENT_ERROR bad command line format", false);
      }
      const result = this.#store.operator.reassignPage(src, dst);
      return this.#line(out, REASSIGN_REPLIES[result], false);
    }
    if (args.length < 2 || args[0] !== "automove") return this.#line(out, "ERROR", false);
    const noreply = args[args.length - 1] === "noreply";
    if (args[1] === "ratio") {
      const ratio = args.length < 3 ? undefined : safeStrtod(args[2]);
      if (ratio === undefined) return this.#line(out, "ERROR", noreply);
      settings.slabAutomoveRatio = ratio;
    } else {
      const level = parseU32(latin1Bytes(args[1]), 0, args[1].length);
      if (level < 0) return this.#line(out, "CLIENT_ERROR bad command line format", noreply);
      if (level > 2) return this.#line(out, "ERROR", noreply);
      settings.slabAutomove = level;
    }
    this.#line(out, "OK", noreply);
  }

  /** `watch`: the connection becomes a watcher, unless memcached would refuse. */
  #watch(args: string[], out: WriteBuffer, connection: ConnectionInfo): void {
    if (!this.#settings.watchEnabled) {
      out.latin1("CLIENT_ERROR watch commands not allowed\r\n");
      return;
    }
    if (out.length > connection.sentMark) {
      out.latin1("ERROR cannot pipeline other commands before watch\r\n");
      return;
    }
    const flags = watchFlags(args);
    if (flags === undefined) out.bytes(REPLY.ERROR);
    else if (this.#logger.watchers >= WATCHER_LIMIT) {
      out.latin1("WATCHER_TOO_MANY log watcher limit reached\r\n");
    } else connection.watch = flags;
  }

  /** A storage command's result, for the watchers of mutations, as do_store_item logs it. */
  #logStore(request: Parameters<LogStore>[0], status: StoreStatus): void {
    const { key, flags, exptime, data } = request;
    const store = this.#store;
    const now = store.clock.now();
    const concat = request.command === "append" || request.command === "prepend";
    const slot = concat && status === "stored" ? store.find(key) : -1;
    if (slot >= 0) {
      // memcached logs the joined item: its exptime, its whole value, its class.
      const items = this.#items;
      const expires = items.exptime(slot);
      const ttl = expires === 0 ? 0 : expires - now;
      const length = items.valueLength(slot);
      this.#logger.itemStore(status, request.command, key, length, ttl, items.classId(slot));
      return;
    }
    const ttl = exptime === 0 ? 0 : relativeExptime(exptime, store.clock) - now;
    const cls = store.classFor(key.length, flags, data.length);
    this.#logger.itemStore(status, request.command, key, data.length, ttl, cls);
  }

  #storage(request: StorageRequest, out: WriteBuffer): void {
    const store = this.#store;
    const stats = this.#stats;
    if (this.#prefixes.enabled) this.#prefixes.recordSet(request.key);
    if (request.status === "too_large") {
      stats.storeTooLarge++;
      if (this.#logger.mutations) this.#logStore(request, "too_large");
      // memcached drops the old value when a set is refused, so no stale value survives.
      if (request.command === "set") store.delete(request.key);
      this.#reply(out, "TOO_LARGE", request.noreply);
      return;
    }
    if (request.status === "no_memory") {
      stats.storeNoMemory++;
      if (request.command === "set") store.delete(request.key);
      this.#reply(out, "OUT_OF_MEMORY_STORING", request.noreply);
      return;
    }
    if (request.status === "bad_chunk") {
      // memcached counts the set before it finds the data block bad.
      stats.badChunkSets++;
      this.#reply(out, "BAD_DATA_CHUNK", request.noreply);
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
    if (this.#logger.mutations) this.#logStore(request, STORE_STATUS[result]);
    switch (result) {
      case "TOO_LARGE":
        stats.storeTooLarge++;
        this.#reply(out, "TOO_LARGE", request.noreply);
        return;
      case "NO_MEMORY":
        stats.storeNoMemory++;
        this.#reply(out, "OUT_OF_MEMORY_STORING", request.noreply);
        return;
      default:
        this.#reply(out, result, request.noreply);
    }
  }

  #statsCommand(args: string[], out: WriteBuffer): void {
    const group = args[0];
    if (group === undefined) {
      this.#stats.writeGeneral(out, this.#store);
    } else if (group === "reset") {
      this.#stats.reset();
      this.#store.resetStats();
      this.#prefixes.clear();
      out.bytes(REPLY.RESET);
      return;
    } else if (group === "settings") {
      this.#stats.writeSettings(out, this.#store, this.#prefixes.enabled);
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
      this.#stats.writeSizes(out, this.#store);
    } else if (group === "sizes_enable" || group === "sizes_disable") {
      // memcached ends these two with no END line.
      const on = group === "sizes_enable";
      if (this.#store.operator.trackSizes(on)) {
        out.latin1(`STAT sizes_status ${on ? "enabled" : "disabled"}\r\n`);
      } else {
        out.latin1("STAT sizes_status error\r\nSTAT sizes_error cas_support_disabled\r\n");
      }
      return;
    } else if (group === "conns") {
      this.#stats.writeConns(out, this.#control.listeners(), this.#control.connections());
    } else {
      out.bytes(REPLY.ERROR);
      return;
    }
    out.bytes(REPLY.END);
  }
}
