/**
 * The types the server's files share: the store's options and outcomes, the
 * read-only view of an item that command handlers get, and a connection and
 * the server as the handlers see them.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** The outcome of a storage command, named as memcached replies. */
export type StoreResult =
  | "STORED"
  | "NOT_STORED"
  | "EXISTS"
  | "NOT_FOUND"
  | "TOO_LARGE"
  | "NO_MEMORY";

/** How `Store.metaSet` stores, as the `M` token of `ms` names it. */
export type MetaSetMode = "set" | "add" | "replace" | "append" | "prepend";

/** Options of `Store.metaSet`. */
export interface MetaSetOptions {
  /**
   * How to store.
   *
   * @default {"set"}
   */
  mode?: MetaSetMode;
  /**
   * Client flags, an unsigned 32-bit integer.
   *
   * @default {0}
   */
  flags?: number;
  /**
   * The exptime as sent on the wire.
   *
   * @default {0}
   */
  exptime?: number;
  /**
   * The cas unique to compare with (`C`); a set or replace with one is a cas.
   *
   * @default {undefined}
   */
  cas?: bigint;
  /**
   * With `cas` (`I`): a unique older than the item's stores anyway, marked stale.
   *
   * @default {false}
   */
  invalidate?: boolean;
  /**
   * The key was sent in base64 (`b`); meta replies echo it encoded.
   *
   * @default {false}
   */
  binaryKey?: boolean;
}

/** The outcome of `incr`/`decr`: the new value, or why there is none. */
export type DeltaResult = bigint | "NOT_FOUND" | "NON_NUMERIC" | "NO_MEMORY";

/** Options of `Store.metaDelta`. */
export interface MetaDeltaOptions {
  /** Add (`incr`) or subtract (`decr`). */
  incr: boolean;
  /**
   * A cas the item must have; 0 for none.
   *
   * @default {0n}
   */
  cas?: bigint;
  /**
   * Whether a miss counts in `incr_misses`/`decr_misses` (not when the caller vivifies).
   *
   * @default {true}
   */
  countMiss?: boolean;
}

/** Options for `Store`, named after memcached's flags. */
export interface StoreOptions {
  /**
   * Bytes of pages the store may hand out (memcached's `-m`, in bytes).
   *
   * @default {67108864}
   */
  maxBytes?: number;
  /**
   * The largest item, by memcached's item size formula (memcached's `-I`).
   *
   * @default {1048576}
   */
  maxItemSize?: number;
  /**
   * Whether items get cas uniques; `false` is memcached's `-C`, and every cas is 0.
   *
   * @default {true}
   */
  useCas?: boolean;
  /**
   * Whether a full class evicts its least recently used item; `false` is
   * memcached's `-M`, and a store that needs memory fails with `NO_MEMORY`.
   *
   * @default {true}
   */
  evict?: boolean;
  /**
   * The growth factor between chunk sizes (memcached's `-f`).
   *
   * @default {1.25}
   */
  growthFactor?: number;
  /**
   * The smallest chunk in bytes: memcached's 48-byte item header plus `-n`.
   *
   * @default {96}
   */
  minChunkSize?: number;
  /**
   * Bytes in a page (memcached's `slab_page_size`).
   *
   * @default {1048576}
   */
  pageSize?: number;
  /**
   * The clock that expiry and LRU ages read.
   *
   * @default {new SystemClock()}
   */
  clock?: Clock;
  /**
   * log2 of the initial number of hash buckets (memcached's `hashpower`).
   *
   * @default {16}
   */
  hashPower?: number;
  /**
   * The largest size class's chunk (memcached's `slab_chunk_max`).
   *
   * @default {pageSize / 2}
   */
  chunkMax?: number;
  /** Chunk sizes given outright (memcached's `slab_sizes`) instead of grown by `growthFactor`. */
  classSizes?: readonly number[];
  /**
   * Whether `stats sizes` counts items from the start (memcached's `-o track_sizes`).
   *
   * @default {false}
   */
  trackSizes?: boolean;
  /**
   * Where lookups and evictions are reported, for `watch`.
   *
   * @default {undefined}
   */
  events?: ItemEvents;
}

/** Options of `Store.metaDelete`. */
export interface MetaDeleteOptions {
  /**
   * A cas the item must have (`C`).
   *
   * @default {undefined}
   */
  cas?: bigint;
  /**
   * Mark the item stale instead of deleting it (`I`): a new cas, and the win token free again.
   *
   * @default {false}
   */
  invalidate?: boolean;
  /**
   * With `invalidate`, the item's new exptime as sent on the wire (`T`).
   *
   * @default {undefined}
   */
  exptime?: number;
}

/** The outcome of a storage command that did not store: {@linkcode StoreResult} but `STORED`. */
export type StoreFailure = Exclude<StoreResult, "STORED">;

/** A meta arithmetic that changed nothing: why, as {@linkcode DeltaResult}, or a cas mismatch. */
export type MetaDeltaFailure = Exclude<DeltaResult, bigint> | "EXISTS";

/** An item's value that the store keeps unchanged until released, from `Store.pinValue`. */
export interface PinnedValue {
  /** The value's bytes, in their page. */
  readonly value: Uint8Array;
  /** Lets the store reuse the bytes; call once, when the write is done. */
  release(): void;
}

/**
 * Reads an item by the slot a lookup returned. Views and slots are valid
 * until the next call that changes the store.
 */
export interface ItemView {
  /** The item's client flags, an unsigned 32-bit integer. */
  flags(slot: number): number;
  /** The item's cas unique: bumped on every change, 0 when cas is off. */
  casUnique(slot: number): number;
  /** Bytes in the item's value. */
  valueLength(slot: number): number;
  /** A view of the item's value inside its page. */
  value(slot: number): Uint8Array;
  /** A view of the item's key inside its page. */
  key(slot: number): Uint8Array;
  /** The item's exptime on the relative clock; 0 means never. */
  exptime(slot: number): number;
  /** When the item was last stored or fetched, on the relative clock. */
  lastAccess(slot: number): number;
  /** Whether the item was fetched since it was stored. */
  fetched(slot: number): boolean;
  /** The size class holding the item. */
  classId(slot: number): number;
  /** The item's size by memcached's formula, as counted in `bytes`. */
  itemSize(slot: number): number;
  /** Whether the item is marked stale (by `md I`, or an `ms I` with an old cas). */
  stale(slot: number): boolean;
  /** Whether a client has been told it won the right to recache the item (`W`). */
  tokenSent(slot: number): boolean;
  /** Whether the item was stored by an `ms` whose key came in base64. */
  binaryKey(slot: number): boolean;
}

/**
 * memcached settings this server takes and shows in `stats settings` with
 * no mechanism behind them here (no LRU maintainer, slab mover, extstore,
 * logger buffers), or that another room of the server reads. Each defaults to
 * memcached 1.6.18's value.
 */
export interface Tunables {
  /** `maxconns_fast`: refuse connections past `-c` at once (this server always does). */
  maxconnsFast: boolean;
  /** `hashpower` as given; 0 when the default was kept. */
  hashpowerInit: number;
  /** `slab_reassign`. */
  slabReassign: boolean;
  /** `slab_automove` (0 to 2). */
  slabAutomove: number;
  /** `slab_automove_ratio`. */
  slabAutomoveRatio: number;
  /** `slab_automove_window`. */
  slabAutomoveWindow: number;
  /** `slab_automove_freeratio`. */
  slabAutomoveFreeratio: number;
  /** `slab_chunk_max`, bytes: the largest size class's chunk. */
  slabChunkMax: number;
  /** `slab_sizes`: the size classes' chunk sizes given outright; empty to grow them by `-f`. */
  slabSizes: readonly number[];
  /** Whether the LRU crawler runs (`no_lru_crawler` turns it off). */
  lruCrawler: boolean;
  /** `lru_crawler_sleep`, microseconds between items. */
  lruCrawlerSleep: number;
  /** `lru_crawler_tocrawl`, items per class per run; 0 for all. */
  lruCrawlerTocrawl: number;
  /** `tail_repair_time`, seconds; 0 off. */
  tailRepairTime: number;
  /** `hash_algorithm`. */
  hashAlgorithm: "jenkins" | "murmur3" | "xxh3";
  /** `hot_lru_pct`. */
  hotLruPct: number;
  /** `warm_lru_pct`. */
  warmLruPct: number;
  /** `hot_max_factor`. */
  hotMaxFactor: number;
  /** `warm_max_factor`. */
  warmMaxFactor: number;
  /** Whether `temporary_ttl` was given. */
  tempLru: boolean;
  /** `temporary_ttl`, seconds. */
  temporaryTtl: number;
  /** `watcher_logbuf_size`, bytes. */
  watcherLogbufSize: number;
  /** `worker_logbuf_size`, bytes. */
  workerLogbufSize: number;
  /** `track_sizes`: `stats sizes` reports a histogram. */
  trackSizes: boolean;
  /** `-X` turns off `stats cachedump` and `lru_crawler metadump`. */
  dumpEnabled: boolean;
  /** `-W` turns off `watch`. */
  watchEnabled: boolean;
  /** `-N`, when given. */
  napiIds: number | undefined;
  /** `ext_item_size`, bytes. */
  extItemSize: number;
  /** `ext_item_age`, seconds. */
  extItemAge: number;
  /** `ext_low_ttl`, seconds. */
  extLowTtl: number;
  /** `ext_recache_rate`. */
  extRecacheRate: number;
  /** `ext_wbuf_size`, bytes. */
  extWbufSize: number;
  /** `ext_compact_under`, pages. */
  extCompactUnder: number;
  /** `ext_drop_under`, pages. */
  extDropUnder: number;
  /** `ext_max_sleep`, microseconds. */
  extMaxSleep: number;
  /** `ext_max_frag`. */
  extMaxFrag: number;
  /** `ext_drop_unread`. */
  extDropUnread: boolean;
}

/** A saved item put back by {@linkcode Store.prototype.restore}; times on the new relative clock. */
export interface RestoredItem {
  flags: number;
  /** 0 for never. */
  exptime: number;
  lastAccess: number;
  cas: number;
  fetched: boolean;
  stale: boolean;
  tokenSent: boolean;
  binaryKey: boolean;
}

/** What a lookup found, as memcached's `item_get` log lines say: not_found, found, flushed, expired. */
export type GetStatus = 0 | 1 | 2 | 3;

/**
 * Where the store reports item events for `watch`. The store checks the
 * boolean of a kind before it calls, so an event nobody watches costs one check.
 */
export interface ItemEvents {
  /** Whether anyone watches lookups. */
  fetchers: boolean;
  /** Whether anyone watches evictions. */
  evictions: boolean;
  /** A lookup (memcached's do_item_get) and what it found. */
  itemGet(status: GetStatus, key: Uint8Array, valueLength: number, cls: number): void;
  /** An item evicted: `ttl` seconds to its exptime (-1 for none), `idle` since its last access. */
  eviction(
    key: Uint8Array,
    fetched: boolean,
    ttl: number,
    idle: number,
    cls: number,
    valueLength: number,
  ): void;
}

/** The settings `stats settings` reports and the handlers consult. */
export interface Settings extends Tunables {
  /** What drives the plain sockets: libc's epoll through FFI, or Deno.listen. */
  connectionLayer: ConnectionLayer;
  port: number;
  hostname: string;
  memoryLimit: number;
  maxItemSize: number;
  maxConnections: number;
  evictions: boolean;
  cas: boolean;
  enableShutdown: boolean;
  verbosity: number;
  threads: number;
  version: string;
  /** The unix socket listened on (`-s`), if any. */
  socketPath: string | undefined;
  /** Its mode (`-a`). */
  socketMask: number;
  /** The auth file (`-Y`), when connections must authenticate. */
  authFile?: string;
  /** The UDP port (`-U`); 0 when off. */
  udpPort: number;
  /** Requests one connection is served before the others get a turn (`-R`). */
  requestsPerEvent: number;
  /** The chunk size growth factor (`-f`). */
  growthFactor: number;
  /** Bytes for key, value and flags in the smallest chunk (`-n`). */
  chunkSize: number;
  /** The character between a key's prefix and the rest, for `stats detail` (`-D`). */
  prefixDelimiter: string;
  /** Whether `stats detail` counts from the start (`-D` turns it on). */
  detailEnabled: boolean;
  /** The listen backlog (`-b`), as asked for. */
  backlog: number;
  /** Whether `flush_all` runs (`-F` turns it off). */
  flushEnabled: boolean;
  /** Seconds a connection may sit idle before it is closed (`idle_timeout`); 0 never. */
  idleTimeout: number;
  /** Bytes unfinished data blocks may hold (`read_buf_mem_limit`); 0 for `-m`. */
  readBufMemLimit: number;
}

/** A connection as the handlers see it: what `stats conns` shows, and where its replies stand. */
export interface ConnectionInfo {
  readonly id: number;
  /** Where the client is, as `stats conns` names it (`tcp:host:port`). */
  readonly addr: string;
  /** The listener it came through, as `stats conns` names it. */
  readonly listenAddr: string;
  lastCommandTime: number;
  state: string;
  /**
   * How much of the reply buffer memcached would already have sent: it
   * writes after each completed retrieval, after 21 requests of one read and every 20 after. A get with
   * an over-long key discards the replies queued after this point.
   */
  sentMark: number;
  /** Requests handled since the last write. */
  requests: number;
  /** Set where memcached would yield to its other connections; the connection clears it. */
  yieldDue: boolean;
  /**
   * Set after a metadump: memcached serves the rest of that read only once
   * more bytes arrive. The connection clears it.
   */
  parked: boolean;
  /** Set by `watch`: the kinds of event the connection now watches instead of sending requests. */
  watch: number;
}

/**
 * The plain sockets' connection layer: `epoll` drives them through libc's
 * epoll (Linux on x86_64, with `--allow-ffi`), `deno` through Deno.listen.
 */
export type ConnectionLayer = "epoll" | "deno";

/** What the handlers may ask of the server around them. */
export interface ServerControl {
  shutdown(): void;
  connections(): ConnectionInfo[];
  /** The listeners, as `stats conns` numbers and names them. */
  listeners(): { number: number; name: string }[];
  /** Rereads the TLS certificates (`refresh_certs`): undefined when done, else memcached's error line. */
  refreshCerts(): string | undefined;
}

/**
 * TLS for a server, as memcached's `-Z` and `ssl_*` options give it. The
 * files are read at start, and again by `refresh_certs` and SIGHUP.
 */
export interface ServeTlsOptions {
  /** The certificate chain, PEM (`ssl_chain_cert`). */
  chainCertFile: string;
  /** The private key, PEM (`ssl_key`). */
  keyFile: string;
  /**
   * The CAs whose client certificates are accepted, PEM (`ssl_ca_cert`);
   * needed for `verifyMode` 1 to 3.
   *
   * @default {undefined}
   */
  caCertFile?: string;
  /**
   * Client certificates (`ssl_verify_mode`): 0 none, 1 asked for (one given
   * must verify), 2 required, 3 required once (as 2: TLS 1.2 and 1.3 have no
   * renegotiation here).
   *
   * @default {0}
   */
  verifyMode?: 0 | 1 | 2 | 3;
  /**
   * The oldest TLS version accepted (`ssl_min_version` 2 or 3).
   *
   * @default {"TLSv1.2"}
   */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /**
   * Shown in `stats settings` as `ssl_session_cache` (resumption is the runtime's own).
   *
   * @default {false}
   */
  sessionCache?: boolean;
  /**
   * Shown in `stats settings` as `ssl_wbuf_size`, in bytes.
   *
   * @default {16384}
   */
  writeBufferSize?: number;
}

/** A client connection's bytes, as the connection loop reads and writes them. */
export interface ClientStream {
  /** Reads into `buffer`: the bytes read, or null at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`: how many. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the connection. */
  close(): void;
  /** Turns Nagle off, where there is such a switch. */
  setNoDelay?(noDelay?: boolean): void;
  /** Reads into `buffer` only what is there now: the bytes read, null at the end, undefined when none are there yet. */
  readNow?(buffer: Uint8Array): number | null | undefined;
  /** Writes what the socket takes now: how many bytes, or undefined when it takes none yet. */
  writeNow?(bytes: Uint8Array): number | undefined;
  /** Resolves when the other connections have had a turn; without it, after a turn of the event loop. */
  turn?(): Promise<void>;
  /**
   * Drops what the peer sent that will never be read, so the close that
   * follows is a FIN: a close over unread bytes resets the connection, and
   * the reset can destroy the reply just written before the peer reads it.
   */
  discardUnread?(): void;
}
