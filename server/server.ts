/**
 * The server: `serve()` opens its listeners (`_listeners.ts`), accepts
 * connections up to the limit, runs each (`_connection.ts`), and stops
 * cleanly.
 *
 * @module
 */

import { AuthFile } from "./_auth_file.ts";
import { CommandHandler } from "./_commands.ts";
import { Connection } from "./_connection.ts";
import { FdNumbers, inheritedDescriptors } from "./_fd_numbers.ts";
import { DataBlockPool } from "./_data_block_pool.ts";
import { parseListenList } from "./_listen_spec.ts";
import {
  type AcceptWatch,
  type Admit,
  type Listener,
  listenTcp,
  listenTls,
  listenUnix,
} from "./_listeners.ts";
import { EpollLoop } from "./_epoll_loop.ts";
import { listenTcpEpoll, listenUnixEpoll } from "./_epoll_listeners.ts";
import { ConnectionLayerError, epollUnavailable } from "./_libc.ts";
import { Logger } from "./_logger.ts";
import { PrefetchTurn } from "./_prefetch_turn.ts";
import { ServerStats } from "./_stats.ts";
import { Store } from "./_store.ts";
import { ServerTls } from "./_tls.ts";
import { DEFAULT_TUNABLES } from "./_settings.ts";
import type { ConnectionLayer, ServeTlsOptions, Settings, Tunables } from "./_types.ts";
import { listenUdp, type UdpListener } from "./_udp.ts";
import { checkMemoryFile, loadWarmRestart, saveWarmRestart } from "./_warm_restart.ts";
import { MEMCACHED_VERSION } from "./_version.ts";
import { type Clock, SystemClock } from "./clock.ts";

export type { ConnectionLayer, ServeTlsOptions, Tunables } from "./_types.ts";

/** Options of {@linkcode serve}, named after memcached's flags. */
export interface ServeOptions {
  /**
   * The TCP port (`-p`); 0 picks a free one.
   *
   * @default {11211}
   */
  port?: number;
  /**
   * The addresses to listen on, in memcached's `-l` form: a list separated by
   * `,`, each `host`, `host:port`, `[ipv6]:port` or `*`; with `tls`,
   * `notls:` before an address keeps it plain.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * TLS on every address but the `notls:` ones (memcached's `-Z`).
   *
   * @default {undefined}
   */
  tls?: ServeTlsOptions;
  /**
   * Listen on this unix socket instead of TCP (`-s`); it needs `--allow-read`
   * and `--allow-write` for the path.
   *
   * @default {undefined}
   */
  socketPath?: string;
  /**
   * The unix socket's mode (`-a`, octal there).
   *
   * @default {0o700}
   */
  socketMask?: number;
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
   * Requests one connection is served before the others get a turn
   * (memcached's `-R`); a connection also yields after as many reads.
   *
   * @default {20}
   */
  requestsPerEvent?: number;
  /**
   * The chunk size growth factor between size classes (`-f`).
   *
   * @default {1.25}
   */
  growthFactor?: number;
  /**
   * Bytes for key, value and flags in the smallest chunk (`-n`); the
   * chunk adds memcached's 48-byte item header.
   *
   * @default {48}
   */
  slabMinSize?: number;
  /**
   * The character between a key's prefix and the rest for `stats detail`
   * (`-D`); giving one turns per-prefix counting on from the start.
   *
   * @default {undefined}
   */
  prefixDelimiter?: string;
  /**
   * The listen backlog (`-b`): how many connections the kernel queues
   * before the server accepts them (TCP and TLS listeners).
   *
   * @default {1024}
   */
  backlog?: number;
  /**
   * Whether `flush_all` runs; false (`-F`) answers it
   * `CLIENT_ERROR flush_all not allowed`.
   *
   * @default {true}
   */
  flushEnabled?: boolean;
  /**
   * Close connections that sent nothing for more than this many seconds,
   * counted in `idle_kicks` (`-o idle_timeout`); 0 never.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * Bytes that values still being read may hold across connections
   * (`-o read_buf_mem_limit`); 0 for `memoryLimit`.
   *
   * @default {0}
   */
  readBufMemLimit?: number;
  /**
   * memcached's other `-o` settings, shown in `stats settings`; see
   * README's differences for what each does here.
   *
   * @default {{}}
   */
  tunables?: Partial<Tunables>;
  /**
   * What drives the plain TCP and unix sockets: `"epoll"`, libc's epoll
   * through Deno's FFI (Linux on x86_64, with `--allow-ffi`; the faster one),
   * or `"deno"`, `Deno.listen` (everywhere). TLS connections run on
   * `node:tls` on either. Unset, epoll where it can run, else Deno.listen.
   *
   * @default {undefined}
   */
  connectionLayer?: ConnectionLayer;
  /**
   * Require ASCII authentication (`-Y`): a file of `user:password` lines,
   * read at start (needs `--allow-read`) and again on
   * {@linkcode MemcacheServer.reload}. Until a connection sends
   * `set <any key> 0 0 <n>` with the data `user password`, every command is
   * answered `CLIENT_ERROR unauthenticated`.
   *
   * @default {undefined}
   */
  authFile?: string;
  /**
   * Warm restart (memcached's `-e`): on a clean stop ({@linkcode MemcacheServer.close},
   * `shutdown`, or the CLI's SIGTERM, SIGINT and SIGUSR1) the items are
   * written to this file, and a start with the same `memoryLimit`,
   * `maxItemSize` and `cas` reads them back, cas, ttl and LRU order with
   * them; otherwise, or after a crash, the cache starts empty. Needs
   * `--allow-read` and `--allow-write` for its directory (it is written
   * beside itself, then renamed).
   *
   * @default {undefined}
   */
  memoryFile?: string;
  /**
   * Also serve the text protocol over UDP on this port (`-U`), on each
   * `hostname` address, with memcached's 8-byte frame header; 0 is off, as
   * in memcached 1.6. Not with `socketPath`, as memcached has no network then.
   *
   * @default {0}
   */
  udpPort?: number;
  /**
   * The clock items expire by; tests inject a manual one.
   *
   * @default {new SystemClock()}
   */
  clock?: Clock;
}

/** A running server, from {@linkcode serve}. */
export interface MemcacheServer extends AsyncDisposable {
  /**
   * The address of the first TCP listener, with the port actually bound.
   *
   * @throws {TypeError} Before a TLS-only server's `ready`, or on a unix socket only.
   */
  readonly addr: Deno.NetAddr;
  /** Every TCP listener's address; TLS ones once `ready` has settled. */
  readonly addrs: Deno.NetAddr[];
  /**
   * Settles once every listener is bound: at once without TLS, after a turn
   * of the event loop with it. Rejects, and stops the server, when a TLS
   * listener cannot bind.
   */
  readonly ready: Promise<void>;
  /** Settles when the server has stopped (after `close()` or a `shutdown` command). */
  readonly finished: Promise<void>;
  /**
   * Stops listening, closes every connection and waits for them to end.
   *
   * @returns A promise that settles once stopped.
   */
  close(): Promise<void>;
  /**
   * Rereads what the server was started with from disk, as memcached does
   * on SIGHUP: the auth file, whose users then apply to every connection not
   * yet authenticated, and the TLS certificates, which connections made from
   * then on get (open ones keep theirs). What cannot be read or is malformed
   * leaves what was loaded before in force.
   *
   * @returns A promise that settles once reread.
   * @throws {Error} When the auth file or a certificate cannot be loaded, with memcached's message.
   */
  reload(): Promise<void>;
}

/** The store's smallest chunk: a -n below zero still leaves room for the header's fields. */
const MIN_CHUNK = 16;

const TOO_MANY_CONNECTIONS = new TextEncoder().encode("ERROR Too many open connections\r\n");

/**
 * Starts a memcached-compatible server.
 *
 * @param options memcached's settings, by name.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} When a port is taken (a TLS one rejects `ready` instead).
 * @throws {RangeError} For an address list memcached refuses, with its message.
 * @throws {Error} When the TLS certificates or the auth file cannot be loaded, with memcached's message.
 * @throws {WarmRestartError} When `memoryFile` is not granted read and write permission.
 * @throws {Error} When `connectionLayer` is `"epoll"` where that layer cannot run, saying why.
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
  const noEpoll = epollUnavailable();
  const clock = options?.clock ?? new SystemClock();
  const settings: Settings = {
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
    socketPath: options?.socketPath,
    socketMask: options?.socketMask ?? 0o700,
    authFile: options?.authFile,
    udpPort: options?.udpPort ?? 0,
    requestsPerEvent: options?.requestsPerEvent ?? 20,
    growthFactor: options?.growthFactor ?? 1.25,
    chunkSize: options?.slabMinSize ?? 48,
    prefixDelimiter: options?.prefixDelimiter ?? ":",
    detailEnabled: options?.prefixDelimiter !== undefined,
    backlog: options?.backlog ?? 1024,
    flushEnabled: options?.flushEnabled ?? true,
    idleTimeout: options?.idleTimeout ?? 0,
    readBufMemLimit: options?.readBufMemLimit ?? 0,
    ...DEFAULT_TUNABLES,
    ...options?.tunables,
    connectionLayer: options?.connectionLayer ?? (noEpoll === undefined ? "epoll" : "deno"),
  };
  if (settings.connectionLayer === "epoll" && noEpoll !== undefined) {
    throw new ConnectionLayerError(noEpoll);
  }
  // memcached listens on the unix socket alone when it is given one.
  const specs = settings.socketPath === undefined
    ? parseListenList(settings.hostname, settings.port, options?.tls !== undefined)
    : [];
  const serverTls = options?.tls === undefined ? undefined : new ServerTls(options.tls);
  let users = settings.authFile === undefined ? undefined : AuthFile.readSync(settings.authFile);
  const auth = (user: Uint8Array, password: Uint8Array) => users?.check(user, password) ?? false;
  const logger = new Logger(settings.watcherLogbufSize);
  const store = new Store({
    events: logger,
    maxBytes: settings.memoryLimit,
    maxItemSize: settings.maxItemSize,
    evict: settings.evictions,
    useCas: settings.cas,
    trackSizes: settings.trackSizes,
    growthFactor: settings.growthFactor,
    // memcached's smallest chunk is its 48-byte item header plus -n, aligned to 8 by the store.
    minChunkSize: Math.max(MIN_CHUNK, 48 + settings.chunkSize),
    // The index holds at most 2^30 buckets; memcached's 31 and 32 are larger than any memory here.
    hashPower: Math.min(settings.hashpowerInit || 16, 30),
    chunkMax: settings.slabChunkMax,
    classSizes: settings.slabSizes,
    clock,
  });
  const memoryFile = options?.memoryFile;
  const layout = {
    memoryLimit: settings.memoryLimit,
    maxItemSize: settings.maxItemSize,
    cas: settings.cas,
  };
  if (memoryFile !== undefined) checkMemoryFile(memoryFile);
  const listeners: (Listener | undefined)[] = [];
  const bound = () => listeners.filter((l) => l !== undefined);
  const addrs = () => bound().flatMap((l) => l.addr === undefined ? [] : [l.addr]);
  const stats = new ServerStats(clock, settings, () => addrs()[0]?.port, serverTls, logger);
  const connections = new Set<Connection>();
  // Clients are numbered after memcached's own descriptors and one per listener.
  const listenerCount = (settings.socketPath === undefined ? 0 : 1) + specs.length;
  const fds = new FdNumbers(settings.threads, listenerCount, inheritedDescriptors());
  let closing = false;
  let stopped!: () => void;
  const finished = new Promise<void>((resolve) => stopped = resolve);

  const turn = new PrefetchTurn(store);
  // Values still arriving hold at most -m more, as memcached's half-read items sit inside -m.
  const budget = new DataBlockPool(settings.readBufMemLimit || settings.memoryLimit);
  const refreshCerts = (): string | undefined => serverTls?.refresh(clock.now());
  const handler = new CommandHandler(store, stats, settings, {
    shutdown: () => void close(),
    connections: () => [...connections].map((c) => c.info),
    listeners: () =>
      listeners.flatMap((l, i) =>
        l === undefined ? [] : [{ number: fds.listener(i), name: l.name }]
      ),
    refreshCerts: () => serverTls === undefined ? "Error TLS not enabled" : refreshCerts(),
  }, logger);

  // memcached's clock ticks each second; expired items are reclaimed on the tick too.
  const timer = setInterval(() => {
    store.sweep(1000);
    if (settings.idleTimeout > 0) kickIdle();
  }, 1000);
  Deno.unrefTimer(timer);

  /** memcached's idle timeout: a connection waiting for a command longer than -o idle_timeout is closed. */
  function kickIdle(): void {
    const now = clock.now();
    for (const connection of connections) {
      const { state, lastCommandTime } = connection.info;
      const waiting = state === "conn_read" || state === "conn_new_cmd";
      if (!waiting || now - lastCommandTime <= settings.idleTimeout) continue;
      if (settings.verbosity > 1) console.error(`Closing idle fd ${connection.info.id}`);
      stats.idleKicks++;
      connection.close();
    }
  }

  const watch: AcceptWatch = {
    log: (line) => {
      if (settings.verbosity > 0) console.error(line);
    },
    disabled: () => stats.listenDisabled(),
    enabled: () => stats.listenEnabled(),
  };

  const admit: Admit = (stream, remote, local) => {
    if (closing) {
      stream.close();
      return;
    }
    if (connections.size >= settings.maxConnections) {
      stats.rejectedConnections++;
      // The refusal is best effort: a client that is already gone needs none.
      stream.write(TOO_MANY_CONNECTIONS).then(() => {
        stream.discardUnread?.();
        stream.close();
      }, () => stream.close());
      return;
    }
    const id = fds.take();
    const connection = new Connection(stream, remote, local, handler, stats, {
      id,
      maxItemSize: settings.maxItemSize,
      useCas: settings.cas,
      verbosity: settings.verbosity,
      requestsPerEvent: settings.requestsPerEvent,
      budget,
      turn,
      auth: users === undefined ? undefined : auth,
      logger,
    });
    connections.add(connection);
    stats.connectionOpened();
    connection.run().finally(() => {
      fds.give(id);
      connections.delete(connection);
      stats.connectionClosed();
    });
  };

  // memcached -vv: its size classes as slabs_init prints them, then each listener as it opens.
  const announce = (index: number) => {
    if (settings.verbosity > 1) {
      console.error(`<${fds.listener(index)} server listening (ascii)`);
    }
  };
  if (settings.verbosity > 1) {
    // An item past slab_chunk_max takes a class of its own here, where memcached chains chunks.
    for (const c of store.slabClasses().filter((c) => c.chunkSize <= settings.slabChunkMax)) {
      console.error(
        `slab class ${String(c.id).padStart(3)}: chunk size ${String(c.chunkSize).padStart(9)} ` +
          `perslab ${String(c.chunksPerPage).padStart(7)}`,
      );
    }
  }
  const loop = settings.connectionLayer === "epoll" ? new EpollLoop() : undefined;
  try {
    if (settings.socketPath !== undefined) {
      const { socketPath: path, socketMask: mask, backlog } = settings;
      listeners.push(
        loop === undefined
          ? listenUnix(path, mask, admit, watch)
          : listenUnixEpoll(loop, path, mask, admit, watch, backlog),
      );
      announce(0);
    }
    for (const spec of specs) {
      if (spec.tls) {
        listeners.push(undefined);
        continue;
      }
      listeners.push(
        loop === undefined
          ? listenTcp(spec, admit, watch, settings.backlog)
          : listenTcpEpoll(loop, spec, admit, watch, { backlog: settings.backlog }),
      );
      announce(listeners.length - 1);
    }
    // Once the ports are ours, so a start that cannot listen leaves the file for the next one.
    // Nothing is served before this returns: the accept loops wait for the next turn.
    if (memoryFile !== undefined) console.error(loadWarmRestart(memoryFile, store, layout));
  } catch (error) {
    for (const listener of bound()) listener.close();
    clearInterval(timer);
    void loop?.close();
    throw error;
  }
  const offset = listeners.length - specs.length;
  const tlsBinds = specs.flatMap((spec, i) =>
    spec.tls
      ? [
        listenTls(spec, serverTls!, admit, settings.backlog).bound.then((listener) => {
          listeners[offset + i] = listener;
          announce(offset + i);
          if (closing) listener.close();
        }),
      ]
      : []
  );
  const udpPort = settings.udpPort;
  const udpListeners: UdpListener[] = [];
  const udpBinds = udpPort === 0
    ? []
    : [...new Set(specs.map((spec) => spec.hostname))].map((host) =>
      listenUdp(host, udpPort, handler, stats, settings).then((listener) => {
        udpListeners.push(listener);
        if (closing) listener.close();
      })
    );
  const ready = Promise.all([...tlsBinds, ...udpBinds]).then(() => {}, async (error) => {
    await close();
    throw error;
  });

  async function close(): Promise<void> {
    if (closing) return finished;
    closing = true;
    clearInterval(timer);
    for (const listener of bound()) listener.close();
    for (const connection of connections) connection.close();
    for (const listener of udpListeners) listener.close();
    // Before the first await, so a caller that exits right after close() (SIGUSR1) has the file.
    if (memoryFile !== undefined) saveMemoryFile(memoryFile);
    await Promise.allSettled([...tlsBinds, ...udpBinds]);
    await Promise.all(bound().map((l) => l.done));
    while (connections.size > 0) {
      await Promise.all([...connections].map((c) => c.done));
    }
    await loop?.close();
    stopped();
  }

  function saveMemoryFile(path: string): void {
    try {
      saveWarmRestart(path, store, layout);
    } catch (error) {
      // The stop goes on: the next start finds no file and starts empty, as after a crash.
      console.error(
        `Cannot save the cache to "${path}": ${error instanceof Error ? error.message : error}`,
      );
    }
  }

  async function reload(): Promise<void> {
    // The certificates are tried even when the auth file fails, and the other way round.
    const certsFailure = refreshCerts();
    if (settings.authFile !== undefined) users = await AuthFile.read(settings.authFile);
    if (certsFailure !== undefined) throw new Error(certsFailure);
  }

  return {
    get addr(): Deno.NetAddr {
      const addr = addrs()[0];
      if (addr === undefined) {
        throw new TypeError("Cannot read the address: no TCP listener is bound (await ready)");
      }
      return addr;
    },
    get addrs(): Deno.NetAddr[] {
      return addrs();
    },
    ready,
    finished,
    close,
    reload,
    [Symbol.asyncDispose]: close,
  };
}
