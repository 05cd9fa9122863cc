/**
 * The server: `serve()` listens on `Deno.listen`, accepts connections up to
 * the limit, runs each (`_connection.ts`), and stops cleanly.
 *
 * @module
 */

import { CommandHandler } from "./_commands.ts";
import { Connection } from "./_connection.ts";
import { PrefetchTurn } from "./_prefetch_turn.ts";
import { ServerStats } from "./_stats.ts";
import { Store } from "./_store.ts";
import { MEMCACHED_VERSION } from "./_version.ts";
import { type Clock, SystemClock } from "./clock.ts";

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

const TOO_MANY_CONNECTIONS = new TextEncoder().encode("ERROR Too many open connections\r\n");

/**
 * Starts a memcached-compatible server.
 *
 * @param options memcached's settings, by name.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example Serving on a free port
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "@x/memcache/server";
 *
 * await using server = serve({ port: 0, memoryLimit: 64 * 1024 * 1024 });
 * assert.equal(server.addr.hostname, "127.0.0.1");
 * assert.ok(server.addr.port > 0);
 * ```
 */
export function serve(options?: ServeOptions): MemcacheServer {
  const clock = options?.clock ?? new SystemClock();
  const settings = {
    port: options?.port ?? 11211,
    hostname: options?.hostname ?? "127.0.0.1",
    memoryLimit: options?.memoryLimit ?? 64 * 1024 * 1024,
    maxItemSize: options?.maxItemSize ?? 1024 * 1024,
    maxConnections: options?.maxConnections ?? 1024,
    evictions: options?.evictions ?? true,
    cas: options?.cas ?? true,
    enableShutdown: options?.enableShutdown ?? false,
    verbosity: options?.verbosity ?? 0,
    threads: options?.threads ?? 4,
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
