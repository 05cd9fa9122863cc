/**
 * The server: `serve()` listens on `Deno.listen`, runs one loop per
 * connection, and answers memcached's text protocol from an in-memory store.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import { type Request, RequestParser } from "../protocol/request_parser.ts";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import { MEMCACHED_VERSION } from "./cli.ts";
import { type Clock, SystemClock } from "./clock.ts";
import { CommandHandler, type ConnectionInfo, Outcome } from "./commands.ts";
import { Store } from "./_store.ts";
import { ServerStats } from "./stats.ts";

/** Options of {@linkcode serve}, named after memcached's flags. */
export interface ServeOptions {
  /**
   * The TCP port (`-p`); 0 picks a free one.
   *
   * @default {11211}
   */
  port?: number;
  /**
   * The address to listen on (`-l`); a comma-separated list listens on each.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Item memory in bytes (`-m`, which takes megabytes).
   *
   * @default {67108864}
   */
  memoryLimit?: number;
  /**
   * The item size limit in bytes (`-I`).
   *
   * @default {1048576}
   */
  maxItemSize?: number;
  /**
   * The most simultaneous connections (`-c`); further ones are refused.
   *
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Evict least recently used items when memory is full; with false (`-M`)
   * a store that needs room fails with `SERVER_ERROR out of memory storing object`.
   *
   * @default {true}
   */
  evictions?: boolean;
  /**
   * Keep cas uniques (`-C` turns them off).
   *
   * @default {true}
   */
  cas?: boolean;
  /**
   * Accept the `shutdown` command (`-A`).
   *
   * @default {false}
   */
  enableShutdown?: boolean;
  /**
   * Log to stderr: 1 errors, 2 also every command (`-v`, `-vv`).
   *
   * @default {0}
   */
  verbosity?: number;
  /**
   * The thread count reported in stats (`-t`); requests are served on one thread.
   *
   * @default {4}
   */
  threads?: number;
  /**
   * The clock items expire by; tests inject a manual one.
   *
   * @default {new SystemClock()}
   */
  clock?: Clock;
}

/** A running server, from {@linkcode serve}. */
export interface MemcacheServer extends AsyncDisposable {
  /** The address of the first listener, with the port actually bound. */
  readonly addr: Deno.NetAddr;
  /** Every listener's address. */
  readonly addrs: Deno.NetAddr[];
  /** Settles when the server has stopped (after `close()` or a `shutdown` command). */
  readonly finished: Promise<void>;
  /**
   * Stops listening, closes every connection and waits for them to end.
   *
   * @returns A promise that settles once stopped.
   */
  close(): Promise<void>;
}

const READ_SIZE = 64 * 1024;
/** Past this many buffered reply bytes a connection writes before parsing more. */
const WRITE_HIGH_WATER = 1024 * 1024;
/** The most keys one turn prefetches: three cache lines each, well inside a core's L1 and L2. */
const MAX_TURN_KEYS = 128;
const TOO_MANY_CONNECTIONS = new TextEncoder().encode("ERROR Too many open connections\r\n");

/**
 * Starts a memcached-compatible server.
 *
 * @param options memcached's settings, by name.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example Serving on a free port
 * ```ts ignore
 * import { serve } from "@x/memcache/server";
 *
 * await using server = serve({ port: 0, memoryLimit: 64 * 1024 * 1024 });
 * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
 * ```
 */
export function serve(options: ServeOptions = {}): MemcacheServer {
  const clock = options.clock ?? new SystemClock();
  const settings = {
    port: options.port ?? 11211,
    hostname: options.hostname ?? "127.0.0.1",
    memoryLimit: options.memoryLimit ?? 64 * 1024 * 1024,
    maxItemSize: options.maxItemSize ?? 1024 * 1024,
    maxConnections: options.maxConnections ?? 1024,
    evictions: options.evictions ?? true,
    cas: options.cas ?? true,
    enableShutdown: options.enableShutdown ?? false,
    verbosity: options.verbosity ?? 0,
    threads: options.threads ?? 4,
    version: MEMCACHED_VERSION,
  };
  const store = new Store({
    maxBytes: settings.memoryLimit,
    maxItemSize: settings.maxItemSize,
    evict: settings.evictions,
    useCas: settings.cas,
    clock,
  });
  const listeners: Deno.TcpListener[] = [];
  try {
    for (const hostname of settings.hostname.split(",")) {
      listeners.push(Deno.listen({ hostname: hostname.trim(), port: settings.port }));
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    throw error;
  }
  const addrs = listeners.map((l) => l.addr as Deno.NetAddr);
  const stats = new ServerStats(clock, settings, addrs);
  const connections = new Set<Connection>();
  let closing = false;
  let stopped!: () => void;
  const finished = new Promise<void>((resolve) => stopped = resolve);

  const turn = new PrefetchTurn(store);
  const handler = new CommandHandler(store, stats, settings, {
    shutdown: () => void close(),
    connections: () => [...connections].map((c) => c.info),
    listeners: () => addrs,
  });

  // memcached's clock ticks each second; expired items are reclaimed on the tick too.
  const timer = setInterval(() => {
    store.sweep(1000);
  }, 1000);
  Deno.unrefTimer(timer);

  const log = (line: string) => {
    if (settings.verbosity > 0) console.error(line);
  };

  async function accept(listener: Deno.TcpListener): Promise<void> {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        log(`accept failed: ${error}`);
        continue;
      }
      if (connections.size >= settings.maxConnections) {
        stats.rejectedConnections++;
        conn.write(TOO_MANY_CONNECTIONS).catch(() => {}).finally(() => conn.close());
        continue;
      }
      const connection = new Connection(conn, listener.addr as Deno.NetAddr, handler, stats, {
        maxItemSize: settings.maxItemSize,
        useCas: settings.cas,
        verbosity: settings.verbosity,
        turn,
      });
      connections.add(connection);
      stats.connectionOpened();
      connection.run().finally(() => {
        connections.delete(connection);
        stats.connectionClosed();
      });
    }
  }

  const accepting = Promise.all(listeners.map(accept));

  async function close(): Promise<void> {
    if (closing) return finished;
    closing = true;
    clearInterval(timer);
    for (const listener of listeners) {
      try {
        listener.close();
      } catch { /* already closed */ }
    }
    for (const connection of connections) connection.close();
    await accepting;
    while (connections.size > 0) {
      await Promise.all([...connections].map((c) => c.done));
    }
    stopped();
  }

  return {
    addr: addrs[0],
    addrs,
    finished,
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface ConnectionSettings {
  maxItemSize: number;
  useCas: boolean;
  verbosity: number;
  turn: PrefetchTurn;
}

/**
 * One turn of the event loop's reads, shared by the connections: each whose
 * read brought a single get adds its key and waits; once every connection
 * whose read completed in the same turn has had its say, the store touches
 * all their keys' buckets, rows and key bytes in stages, so the cache misses
 * of one connection's lookup overlap the others' instead of following them.
 */
class PrefetchTurn {
  #store: Store;
  #keys: Uint8Array[] = [];
  #done: Promise<void> | undefined;
  #release!: () => void;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Adds a key to this turn; resolves once the turn's keys were read ahead. */
  join(key: Uint8Array): Promise<void> {
    // More keys than the caches hold at once would evict the first ones again.
    if (this.#keys.length < MAX_TURN_KEYS) this.#keys.push(key);
    if (this.#done === undefined) {
      this.#done = new Promise((resolve) => this.#release = resolve);
      // Queued behind the other connections' read continuations of this turn.
      queueMicrotask(this.#run);
    }
    return this.#done;
  }

  #run = (): void => {
    const keys = this.#keys;
    for (let i = 0; i < keys.length;) i += this.#store.prefetch(keys, i);
    keys.length = 0;
    this.#done = undefined;
    this.#release();
  };
}

let nextConnectionId = 1;

/** One client connection: read, parse every complete request, answer into one buffer, write once. */
class Connection {
  readonly info: ConnectionInfo;
  readonly done: Promise<void>;
  #conn: Deno.TcpConn;
  #handler: CommandHandler;
  #stats: ServerStats;
  #parser: RequestParser;
  #out = new WriteBuffer();
  #closed = false;
  #finish!: () => void;
  #verbosity: number;
  #turn: PrefetchTurn;

  constructor(
    conn: Deno.TcpConn,
    listenAddr: Deno.NetAddr,
    handler: CommandHandler,
    stats: ServerStats,
    settings: ConnectionSettings,
  ) {
    this.#conn = conn;
    this.#handler = handler;
    this.#stats = stats;
    this.#verbosity = settings.verbosity;
    this.#turn = settings.turn;
    this.#parser = new RequestParser({
      maxItemSize: settings.maxItemSize,
      useCas: settings.useCas,
    });
    this.info = {
      id: nextConnectionId++,
      addr: conn.remoteAddr as Deno.NetAddr,
      listenAddr,
      lastCommandTime: stats.now(),
      state: "conn_waiting",
      sentMark: 0,
      requests: 0,
      pending: undefined,
      pendingIndex: 0,
    };
    this.done = new Promise((resolve) => this.#finish = resolve);
    try {
      conn.setNoDelay(true);
    } catch { /* not a TCP socket */ }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async run(): Promise<void> {
    const parser = this.#parser;
    const out = this.#out;
    if (this.#verbosity > 1) console.error(`<${this.info.id} new client connection`);
    try {
      reading: while (!this.#closed) {
        this.info.state = "conn_waiting";
        const n = await this.#conn.read(parser.reserve(READ_SIZE));
        if (n === null) break;
        parser.commit(n);
        this.#stats.bytesRead += n;
        this.info.state = "conn_parse_cmd";
        this.info.lastCommandTime = this.#stats.now();
        let request = this.#next();
        // A multi-get reads its own keys ahead (CommandHandler.resume); a single get joins the turn.
        if (request?.type === "retrieval" && request.keys.length === 1) {
          await this.#turn.join(request.keys[0]);
        }
        for (; request !== undefined; request = this.#next()) {
          if (request === null) break reading;
          let outcome = this.#handler.handle(request, out, this.info);
          while (outcome === Outcome.More) {
            // A retrieval filled the buffer: write it out, then go on with the same request.
            await this.#flush();
            outcome = this.#handler.resume(out, this.info);
          }
          if (outcome === Outcome.Close) {
            await this.#flush();
            break reading;
          }
          if (out.length >= WRITE_HIGH_WATER) await this.#flush();
        }
        if (out.length > 0) {
          // The usual end of a batch, inlined: one write takes it all.
          const view = out.view();
          this.info.state = "conn_mwrite";
          const sent = await this.#conn.write(view);
          if (sent < view.length) await this.#flush(sent);
          else this.#wrote(view.length);
        }
        this.info.sentMark = 0;
        this.info.requests = 0;
      }
    } catch (error) {
      if (
        !(error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.BrokenPipe ||
          error instanceof Deno.errors.BadResource ||
          error instanceof Deno.errors.Interrupted)
      ) {
        if (this.#verbosity > 0) console.error(`${this.info.id}: ${error}`);
      }
    } finally {
      this.close();
      if (this.#verbosity > 1) console.error(`<${this.info.id} connection closed.`);
      this.#finish();
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

  #wrote(bytes: number): void {
    this.#stats.bytesWritten += bytes;
    this.#out.clear();
  }
}
