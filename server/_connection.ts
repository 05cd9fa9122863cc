/**
 * One client connection's whole life, as memcached's `conn` and
 * `drive_machine`: read whatever is there, parse every complete request in
 * it, answer each into one reply buffer, then write once. A multi-get whose
 * reply outgrows the buffer is paused here between writes; input that breaks
 * memcached's limits closes the connection, as memcached does.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { ProtocolError } from "../protocol/errors.ts";
import { REPLY } from "../protocol/replies.ts";
import { type DataBlockBudget, RequestParser } from "../protocol/request_parser.ts";
import type { Request } from "../protocol/requests.ts";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import { type AuthCheck, AuthGate } from "./_auth.ts";
import type { CommandHandler } from "./_commands.ts";
import { Logger } from "./_logger.ts";
import type { PrefetchTurn } from "./_prefetch_turn.ts";
import type { ServerStats } from "./_stats.ts";
import type { ClientStream, ConnectionInfo, PinnedValue } from "./_types.ts";

/** What a connection needs of the server's settings. */
export interface ConnectionSettings {
  /** Its number in `stats conns` and the logs, as memcached's file descriptor. */
  id: number;
  /** The item size limit (`-I`), which the parser checks data blocks against. */
  maxItemSize: number;
  /** Whether cas is on (`-C` turns it off), which item sizes count. */
  useCas: boolean;
  /** 1 logs errors, 2 also every connection opened and closed. */
  verbosity: number;
  /** Requests (or reads) served before the other connections get a turn (`-R`). */
  requestsPerEvent: number;
  /** What the connections' unfinished data blocks may hold together. */
  budget: DataBlockBudget;
  /** Where single gets read ahead with the other connections' of the same turn. */
  turn: PrefetchTurn;
  /** With an auth file (`-Y`): checks credentials; the connection must authenticate first. */
  auth?: AuthCheck;
  /** Where connection events go, and where a `watch` connection is handed. */
  logger?: Logger;
}

/** Past this many buffered reply bytes a connection writes before parsing more. */
const WRITE_HIGH_WATER = 256 * 1024;
/** Past this many bytes written in one turn a connection lets the others have theirs. */
const TURN_WRITE_BYTES = 1024 * 1024;

const CRLF = REPLY.END.subarray(3);

/**
 * Resolves after the event loop has polled every socket once. A read of
 * bytes already in the kernel resolves without turning the loop, so a
 * connection that never waits must give the others their turn this way.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One client connection: read, parse every complete request, answer into one buffer, write once. */
export class Connection {
  /** What `stats conns` shows of it, and where its replies stand. */
  readonly info: ConnectionInfo;
  /** Settles once the connection has closed. */
  readonly done: Promise<void>;
  #conn: ClientStream;
  #handler: CommandHandler;
  #stats: ServerStats;
  #parser: RequestParser;
  #out = new WriteBuffer();
  #closed = false;
  #finish!: () => void;
  #verbosity: number;
  #perEvent: number;
  #turn: PrefetchTurn;
  /** A large value being written from its page, released once written or when the connection ends. */
  #pinned: PinnedValue | undefined;
  #logger: Logger;
  /** Until the client authenticates (`-Y`), its bytes go here instead of the parser. */
  #gate: AuthGate | undefined;
  /** Reads, requests and bytes written since this connection last let the others have a turn. */
  #reads = 0;
  #served = 0;
  #written = 0;

  /** A connection from `remote`, accepted on `local`; nothing is read until `run`. */
  constructor(
    conn: ClientStream,
    remote: string,
    local: string,
    handler: CommandHandler,
    stats: ServerStats,
    settings: ConnectionSettings,
  ) {
    this.#conn = conn;
    this.#handler = handler;
    this.#stats = stats;
    this.#verbosity = settings.verbosity;
    this.#perEvent = settings.requestsPerEvent;
    this.#turn = settings.turn;
    this.#logger = settings.logger ?? new Logger();
    this.#gate = settings.auth === undefined ? undefined : new AuthGate(settings.auth, stats);
    this.#parser = new RequestParser({
      maxItemSize: settings.maxItemSize,
      useCas: settings.useCas,
      budget: settings.budget,
    });
    this.info = {
      id: settings.id,
      addr: remote,
      listenAddr: local,
      lastCommandTime: stats.now(),
      // memcached's state until the first read finds nothing waiting.
      state: "conn_new_cmd",
      sentMark: 0,
      requests: 0,
      yieldDue: false,
      parked: false,
      watch: 0,
    };
    this.done = new Promise((resolve) => this.#finish = resolve);
    // Small replies must not wait for Nagle; a unix socket has no such switch.
    conn.setNoDelay?.(true);
  }

  /** Closes the socket; `run` then ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Serves the connection until the client leaves, a request closes it, or `close`. */
  async run(): Promise<void> {
    const parser = this.#parser;
    const out = this.#out;
    const handler = this.#handler;
    const info = this.info;
    if (this.#verbosity > 1) console.error(`<${info.id} new client connection`);
    const logger = this.#logger;
    if (logger.connevents) logger.connNew(info.addr, info.id);
    let reason: "normal" | "error" = "normal";
    try {
      reading: while (!this.#closed) {
        if (this.#reads >= this.#perEvent || this.#served >= this.#perEvent) {
          if (!await this.#yield()) break;
        }
        // Mid-value is memcached's conn_nread, which its idle timeout leaves alone.
        // Waiting for bytes is memcached's conn_read (its conn_waiting passes at once).
        if (this.#reads > 0 || info.state !== "conn_new_cmd") {
          info.state = parser.inDataBlock ? "conn_nread" : "conn_read";
        }
        // Reading what memcached reads makes the same batches, so the same replies go out together.
        const size = parser.readSize();
        const room = this.#gate?.reserve() ?? parser.reserve(size).subarray(0, size);
        // An unauthenticated request that fills memcached's fixed buffer closes the connection.
        if (room.length === 0) break;
        // Bytes already there are taken without a promise, but for a new connection's first read:
        // it waits its turn, so what the connections before it left for their turn (a close) runs first.
        const now = this.#reads > 0 || info.state !== "conn_new_cmd"
          ? this.#conn.readNow?.(room)
          : undefined;
        const n = now !== undefined ? now : await this.#conn.read(room);
        if (n === null) break;
        this.#reads++;
        (this.#gate ?? parser).commit(n);
        this.#stats.bytesRead += n;
        info.state = "conn_parse_cmd";
        info.lastCommandTime = this.#stats.now();
        if (this.#gate !== undefined) {
          const state = this.#gate.serve(out, info);
          if (state === "close") break;
          if (state === "authenticated") {
            parser.push(this.#gate.unread());
            this.#gate = undefined;
          }
        }
        // After a metadump, what followed it in its read waits for this read.
        info.parked = false;
        let request = this.#next();
        // A multi-get reads its own keys ahead; a single get joins the turn.
        if (request?.type === "retrieval" && request.keys.length === 1) {
          await this.#turn.join(request.keys[0]);
        }
        for (; request !== undefined; request = this.#next()) {
          if (request === null) {
            // memcached hangs up without writing the replies it still holds.
            out.truncate(info.sentMark);
            await this.#flush();
            break reading;
          }
          if (request.type === "retrieval") {
            // A reply past the buffer's mark is written before the next key is answered.
            let next = handler.retrieve(request, 0, out, info);
            this.#pinned = handler.takePinned();
            while (next >= 0) {
              await this.#flush();
              if (this.#pinned !== undefined) await this.#writePinned(this.#pinned);
              if (this.#written >= TURN_WRITE_BYTES && !await this.#yield()) break reading;
              next = handler.retrieve(request, next, out, info);
              this.#pinned = handler.takePinned();
            }
          } else if (!handler.handle(request, out, info)) {
            await this.#flush();
            break reading;
          } else if (info.watch !== 0) {
            await this.#flush();
            await this.#watch(info.watch);
            break reading;
          } else {
            // A reply too large for one batch is written as it is made.
            const more = handler.takeContinuation();
            if (more !== undefined) {
              do await this.#flush(); while (more(out));
              info.sentMark = out.length;
            }
          }
          if (out.length >= WRITE_HIGH_WATER) await this.#flush();
          this.#served++;
          if (info.parked) break;
          if (info.yieldDue || this.#written >= TURN_WRITE_BYTES) {
            info.yieldDue = false;
            if (!await this.#yield()) break reading;
          }
        }
        // memcached writes nothing while a data block is unfinished but what it had sent before.
        const held = parser.inDataBlock ? out.view().slice(info.sentMark) : undefined;
        if (held !== undefined) out.truncate(info.sentMark);
        if (out.length > 0) {
          // The usual end of a batch, inlined: one write takes it all.
          const view = out.view();
          info.state = "conn_mwrite";
          const sent = this.#conn.writeNow?.(view) ?? await this.#conn.write(view);
          if (sent < view.length) await this.#flush(sent);
          else this.#wrote(view.length);
        }
        if (held !== undefined) out.bytes(held);
        info.sentMark = 0;
        info.requests = 0;
      }
    } catch (error) {
      reason = "error";
      if (!isPeerFailure(error)) {
        // A fault of ours: always told and counted; only this connection pays for it.
        this.#stats.unexpectedErrors++;
        console.error(`${info.id}: closing the connection after an unexpected error:`, error);
      } else if (this.#verbosity > 0 && !this.#closed) {
        // A read or write the server cancelled by closing is no peer's failure worth a line.
        console.error(`${info.id}: ${error}`);
      }
    } finally {
      this.close();
      this.#pinned?.release();
      if (logger.connevents) logger.connClose(info.addr, info.id, reason);
      this.#parser.dispose();
      this.#out.release();
      if (this.#verbosity > 1) console.error(`<${info.id} connection closed.`);
      this.#finish();
    }
  }

  /**
   * Serves the connection as a watcher until the client hangs up. As
   * memcached's, it takes no more requests: what the client sends is read
   * only to learn that it left, and dropped.
   */
  async #watch(flags: number): Promise<void> {
    this.info.state = "conn_watch";
    const watcher = this.#logger.watch(this.#conn, flags);
    const sink = new Uint8Array(512);
    try {
      while (!this.#closed && await this.#conn.read(sink) !== null);
    } finally {
      this.#logger.remove(watcher);
    }
  }

  /** The next request; null when the input breaks memcached's limits and the connection must close. */
  #next(): Request | null | undefined {
    try {
      return this.#parser.next();
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (this.#verbosity > 0) console.error(`${this.info.id}: ${error.message}`);
      return null;
    }
  }

  /** Writes what is buffered, from byte `sent` on. */
  async #flush(sent = 0): Promise<void> {
    const out = this.#out;
    this.info.sentMark = 0;
    this.info.requests = 0;
    if (out.length === 0) return;
    this.info.state = "conn_mwrite";
    const view = out.view();
    while (sent < view.length) sent += await this.#conn.write(view.subarray(sent));
    this.#wrote(view.length);
  }

  /** Writes a value from its page, then releases it; its CRLF goes into the reply that follows. */
  async #writePinned(pinned: PinnedValue): Promise<void> {
    const value = pinned.value;
    this.info.state = "conn_mwrite";
    for (let sent = 0; sent < value.length;) sent += await this.#conn.write(value.subarray(sent));
    this.#pinned = undefined;
    pinned.release();
    this.#written += value.length;
    this.#stats.bytesWritten += value.length;
    this.#out.bytes(CRLF);
  }

  /** Lets the other connections have a turn; false when this one was closed meanwhile. */
  async #yield(): Promise<boolean> {
    await (this.#conn.turn?.() ?? nextTurn());
    this.#reads = this.#served = this.#written = 0;
    return !this.#closed;
  }

  #wrote(bytes: number): void {
    this.#written += bytes;
    this.#stats.bytesWritten += bytes;
    this.#out.clear();
  }
}

/** Whether `error` is the peer's or the socket's doing (gone, reset, closed under us), not a fault of ours. */
function isPeerFailure(error: unknown): boolean {
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted || error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.TimedOut
  ) {
    return true;
  }
  // node:tls sockets fail with a system error code (ECONNRESET, EPIPE) or a TLS one.
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(E[A-Z]+|ERR_SSL_\w+|ERR_TLS_\w+)$/.test(code);
}
