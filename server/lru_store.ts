/**
 * The server's in-memory store, with memcached 1.6's semantics: storage
 * commands, cas, incr/decr, touch, flush_all, lazy expiry plus a bounded
 * sweep, and per-class LRU eviction under a page-counted memory limit.
 *
 * Item bytes (key, value, CRLF) live in 1 MiB pages carved into memcached's
 * size classes; per-item metadata (flags, exptime, access time, cas, value
 * length, chunk, LRU links, hash chain) lives in one `Int32Array` row per
 * slot; the key index is a chained hash table over the same slots, hashing
 * the key bytes so a lookup makes no string. The store knows nothing about
 * the wire.
 *
 * @module
 */

import { type Clock, relativeExptime, SystemClock } from "./clock.ts";
import { SlabAllocator } from "./_slab_allocator.ts";

/** The outcome of a storage command, named as memcached replies. */
export type StoreResult =
  | "STORED"
  | "NOT_STORED"
  | "EXISTS"
  | "NOT_FOUND"
  | "TOO_LARGE"
  | "NO_MEMORY";

/** How {@linkcode LruStore.prototype.metaSet} stores, as the `M` token of `ms` names it. */
export type MetaSetMode = "set" | "add" | "replace" | "append" | "prepend";

/** Options of {@linkcode LruStore.prototype.metaSet}. */
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

/** Options of {@linkcode LruStore.prototype.metaDelta}. */
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

/** The outcome of a meta arithmetic: as {@linkcode DeltaResult}, or a cas mismatch. */
export type MetaDeltaResult = DeltaResult | "EXISTS";

/** Options for {@linkcode LruStore}. */
export interface LruStoreOptions {
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
}

/**
 * Counters for `stats`. Each is memcached's field of the same name in
 * snake_case (`currItems` is `curr_items`, `limitMaxbytes` is `limit_maxbytes`).
 */
export interface StoreStats {
  /** Items stored now. */
  currItems: number;
  /** Items ever stored (every link of a new item, as memcached counts). */
  totalItems: number;
  /** Sum of item sizes by memcached's formula (header 48, cas 8, key + 1, flags 4, value + 2). */
  bytes: number;
  /** Live items removed to make room. */
  evictions: number;
  /** Expired or flushed items whose memory was reused or swept. */
  reclaimed: number;
  /** Reclaimed items that were never fetched. */
  expiredUnfetched: number;
  /** Evicted items that were never fetched. */
  evictedUnfetched: number;
  /** Evicted items that had an expiry time. */
  evictedNonzero: number;
  /** Lookups that found an expired item (by any command, as in memcached). */
  getExpired: number;
  /** Lookups that found a flushed item. */
  getFlushed: number;
  /** Items reclaimed by `sweep`. */
  crawlerReclaimed: number;
  /** The memory limit in bytes. */
  limitMaxbytes: number;
  /** Bytes of pages handed out; never more than `limitMaxbytes`. */
  totalMalloced: number;
  /** Pages moved from one class to another. */
  slabsMoved: number;
  /** Items moved to another chunk of their class while their page was moved. */
  slabReassignRescues: number;
  /** Items evicted because their page was moved. */
  slabReassignEvictionsNomem: number;
  /** log2 of the hash bucket count. */
  hashPowerLevel: number;
  /** Bytes of the hash bucket array. */
  hashBytes: number;
  /** The flush point on the relative clock, 0 for none (`stats settings` `oldest`). */
  oldestLive: number;
  /** Hits of `get`. */
  getHits: number;
  /** Misses of `get`. */
  getMisses: number;
  /** Hits of `touch`. */
  touchHits: number;
  /** Misses of `touch`. */
  touchMisses: number;
  /** Hits of `delete`. */
  deleteHits: number;
  /** Misses of `delete`. */
  deleteMisses: number;
  /** Hits of `incr`. */
  incrHits: number;
  /** Misses of `incr`. */
  incrMisses: number;
  /** Hits of `decr`. */
  decrHits: number;
  /** Misses of `decr`. */
  decrMisses: number;
  /** `cas` commands that stored. */
  casHits: number;
  /** `cas` commands on a missing key. */
  casMisses: number;
  /** `cas` commands whose unique did not match. */
  casBadval: number;
  /** Storage commands that got past the size check. */
  cmdSet: number;
}

/**
 * One size class, for `stats slabs` and `stats items`. Fields map to
 * memcached's as noted; the rest are named as memcached's in snake_case.
 */
export interface SlabClassStats {
  /** The class id, from 1. */
  id: number;
  /** Bytes per chunk. */
  chunkSize: number;
  /** Chunks per page. */
  chunksPerPage: number;
  /** Bytes per page of this class. */
  pageSize: number;
  /** Pages the class holds. */
  totalPages: number;
  /** Chunks in those pages. */
  totalChunks: number;
  /** Chunks holding items. */
  usedChunks: number;
  /** Chunks free for items. */
  freeChunks: number;
  /** Free chunks of the newest page not carved yet. */
  freeChunksEnd: number;
  /** Items in the class (`items:N:number`). */
  items: number;
  /** Last access time of the least recently used item, -1 when the class is empty. */
  oldestTime: number;
  /** Seconds since that access (`items:N:age`). */
  age: number;
  /** Sum of memcached item sizes (`items:N:mem_requested`). */
  requestedBytes: number;
  /** Items evicted. */
  evicted: number;
  /** Evicted items that had an expiry time. */
  evictedNonzero: number;
  /** Seconds between the last evicted item's last access and its eviction. */
  evictedTime: number;
  /** Allocations that failed (`outofmemory`). */
  outOfMemory: number;
  /** Expired or flushed items reclaimed. */
  reclaimed: number;
  /** Reclaimed items never fetched. */
  expiredUnfetched: number;
  /** Evicted items never fetched. */
  evictedUnfetched: number;
  /** Items reclaimed by `sweep`. */
  crawlerReclaimed: number;
  /** Hits of `get`. */
  getHits: number;
  /** Storage commands for items of this size (`cmd_set`). */
  setCmds: number;
  /** Hits of `delete`. */
  deleteHits: number;
  /** Hits of `incr`. */
  incrHits: number;
  /** Hits of `decr`. */
  decrHits: number;
  /** `cas` commands that stored. */
  casHits: number;
  /** `cas` commands whose unique did not match. */
  casBadval: number;
  /** Hits of `touch`. */
  touchHits: number;
}

/** The most keys {@linkcode LruStore.prototype.prefetch} reads ahead at once. */
export const PREFETCH_BATCH = 32;

// The longest key memcached accepts (KEY_MAX_LENGTH).
const KEY_MAX_LENGTH = 250;
// memcached's sizeof(item) on 64-bit builds.
const ITEM_HEADER = 48;

// Per-slot metadata, one Int32Array row per slot.
const F_FLAGS = 0;
const F_EXPTIME = 1; // relative, unsigned
const F_TIME = 2; // last access, relative
const F_CAS_LO = 3;
const F_CAS_HI = 4;
const F_VLEN = 5;
const F_PAGE = 6;
const F_OFFSET = 7;
const F_PREV = 8; // towards the LRU head (newer)
const F_NEXT = 9; // towards the LRU tail (older); the free-slot link when free
const F_HNEXT = 10;
const F_HASH = 11;
const F_INFO = 12; // key length | class << 8 | bits
const STRIDE = 13;
const INFO_LINKED = 1 << 16;
const INFO_FETCHED = 1 << 17;
// Meta protocol marks (memcached's ITEM_STALE, ITEM_TOKEN_SENT, ITEM_KEY_BINARY).
const INFO_STALE = 1 << 18;
const INFO_TOKEN_SENT = 1 << 19;
const INFO_KEY_BINARY = 1 << 20;
// Used since it last reached its LRU's tail (memcached's ITEM_ACTIVE): spared once there.
const INFO_ACTIVE = 1 << 21;
/** The most active items one eviction moves from the tail to the head before taking one anyway. */
const MAX_SECOND_CHANCES = 50;

// Per-class counters, one Float64Array row per class.
const C_GET_HITS = 0;
const C_CMD_SET = 1;
const C_DELETE_HITS = 2;
const C_INCR_HITS = 3;
const C_DECR_HITS = 4;
const C_CAS_HITS = 5;
const C_CAS_BADVAL = 6;
const C_TOUCH_HITS = 7;
const C_EVICTED = 8;
const C_EVICTED_NONZERO = 9;
const C_EVICTED_TIME = 10;
const C_OUTOFMEMORY = 11;
const C_RECLAIMED = 12;
const C_EXPIRED_UNFETCHED = 13;
const C_EVICTED_UNFETCHED = 14;
const C_CRAWLER_RECLAIMED = 15;
const C_NUMBER = 16;
const C_MEM_REQUESTED = 17;
const C_COUNT = 18;

const LIVE = 0;
const FLUSHED = 1;
const EXPIRED = 2;

const SET = 0;
const ADD = 1;
const REPLACE = 2;
const APPEND = 3;
const PREPEND = 4;
const CAS = 5;

const TWO_32 = 4294967296;
const U64_MASK = (1n << 64n) - 1n;
const CR = 13;
const LF = 10;
const SPACE = 32;

/**
 * memcached's item store, synchronous and wire-agnostic. Keys and values
 * are bytes; the store copies what it keeps. A lookup returns a slot number,
 * and the accessors read the item in place: views and slot numbers are valid
 * until the next call that changes the store.
 *
 * Differences from memcached 1.6.18, all outside the replies of a store with
 * memory to spare: one LRU per class instead of the segmented
 * HOT/WARM/COLD LRU, where a hit marks the item active and an active item
 * reaching the tail moves to the head once (memcached moves it to its WARM
 * LRU), and every hit stamps the access time (memcached at most once a
 * minute); a store of an existing key checks the key
 * before taking memory, so under memory pressure `add` of an existing key is
 * `NOT_STORED` where memcached may say out of memory; a value that fits its
 * old chunk is overwritten in place; a class with nothing to evict takes a
 * page from another class at once (memcached's page mover runs in the
 * background); the memory limit is never exceeded, where memcached gives each
 * class its first page beyond it.
 *
 * @example Storing and reading an item
 * ```ts
 * import { LruStore } from "@x/memcache/server/lru_store";
 * import { ManualClock } from "@x/memcache/server/clock";
 *
 * const store = new LruStore({ clock: new ManualClock() });
 * const key = new TextEncoder().encode("greeting");
 * store.set(key, 0, 0, new TextEncoder().encode("hello")); // "STORED"
 * const slot = store.get(key);
 * if (slot >= 0) console.log(new TextDecoder().decode(store.value(slot)));
 * ```
 */
export class LruStore {
  #clock: Clock;
  #useCas: boolean;
  #evict: boolean;
  #maxItemSize: number;
  #slab: SlabAllocator;

  #meta: Int32Array;
  #slotCount = 0; // high-water mark of slots handed out
  #freeSlot = -1;

  #buckets: Int32Array;
  /** Where {@linkcode LruStore.prototype.prefetch} keeps each key's first slot, page and offset. */
  #ahead = new Int32Array(3 * PREFETCH_BATCH);
  /** Receives the bytes prefetch reads, so that the reads are not optimised away. */
  #sink = 0;
  #hashPower: number;
  #hashMask: number;

  #heads: Int32Array;
  #tails: Int32Array;
  #cursors: Int32Array; // sweep position per class, -1 = start at the tail
  #sweepClass = 1;
  #classStats: Float64Array;

  #casId = 0;
  #oldestLive = 0;
  #oldestCas = 0;

  #currItems = 0;
  #totalItems = 0;
  #bytes = 0;
  #evictions = 0;
  #reclaimed = 0;
  #expiredUnfetched = 0;
  #evictedUnfetched = 0;
  #evictedNonzero = 0;
  #getExpired = 0;
  #getFlushed = 0;
  #crawlerReclaimed = 0;
  #slabsMoved = 0;
  #rescues = 0;
  #moveEvictions = 0;
  #getMisses = 0;
  #touchMisses = 0;
  #deleteMisses = 0;
  #incrMisses = 0;
  #decrMisses = 0;
  #casMisses = 0;
  #lastSlot = -1;

  /**
   * Creates an empty store; pages are allocated as items arrive.
   *
   * @param options Limits and behaviour, named after memcached's flags.
   * @throws {RangeError} If a limit is out of range, as memcached refuses it
   * (for example `maxItemSize` above half of `maxBytes`).
   */
  constructor(options: LruStoreOptions = {}) {
    const {
      maxBytes = 64 * 1024 * 1024,
      maxItemSize = 1024 * 1024,
      useCas = true,
      evict = true,
      growthFactor = 1.25,
      minChunkSize = 96,
      pageSize = 1024 * 1024,
      clock = new SystemClock(),
      hashPower = 16,
    } = options;
    checkInteger("maxBytes", maxBytes, 1);
    checkInteger("pageSize", pageSize, 1024);
    checkInteger("minChunkSize", minChunkSize, 16);
    checkInteger("maxItemSize", maxItemSize, 1024);
    checkInteger("hashPower", hashPower, 4);
    if (!(growthFactor > 1) || !Number.isFinite(growthFactor)) {
      throw new RangeError(
        `Cannot create the store: growthFactor "${growthFactor}" must be greater than 1`,
      );
    }
    if (maxItemSize > maxBytes / 2) {
      throw new RangeError(
        `Cannot create the store: maxItemSize "${maxItemSize}" is more than half of maxBytes "${maxBytes}"`,
      );
    }
    if (minChunkSize > pageSize / 2 || hashPower > 30) {
      throw new RangeError(
        `Cannot create the store: minChunkSize "${minChunkSize}" or hashPower "${hashPower}" is too large`,
      );
    }
    this.#clock = clock;
    this.#useCas = useCas;
    this.#evict = evict;
    this.#maxItemSize = maxItemSize;
    this.#slab = new SlabAllocator({ maxBytes, pageSize, minChunkSize, growthFactor, maxItemSize });
    const classes = this.#slab.largest + 1;
    this.#heads = new Int32Array(classes).fill(-1);
    this.#tails = new Int32Array(classes).fill(-1);
    this.#cursors = new Int32Array(classes).fill(-1);
    this.#classStats = new Float64Array(classes * C_COUNT);
    this.#meta = new Int32Array(1024 * STRIDE);
    this.#hashPower = hashPower;
    this.#hashMask = (1 << hashPower) - 1;
    this.#buckets = new Int32Array(1 << hashPower).fill(-1);
  }

  /** The clock the store reads. */
  get clock(): Clock {
    return this.#clock;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Looks up a key, as `get`: a hit becomes the most recently used item of
   * its class and is marked fetched.
   *
   * @param key The key bytes (1 to 250 bytes).
   * @returns The item's slot, or -1 on a miss.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  get(key: Uint8Array): number {
    checkKey(key);
    const now = this.#clock.now();
    const slot = this.#lookup(key, hashKey(key), now);
    if (slot < 0) {
      this.#getMisses++;
      return -1;
    }
    const base = slot * STRIDE;
    this.#meta[base + F_INFO] |= INFO_FETCHED;
    this.#bump(slot, now);
    this.#classStats[this.#classOf(base) * C_COUNT + C_GET_HITS]++;
    return slot;
  }

  /**
   * Looks up a key and gives it a new exptime, as `touch`, `gat` and
   * `gats`: a hit also becomes the most recently used item and is marked
   * fetched.
   *
   * @param key The key bytes.
   * @param exptime The new exptime as sent on the wire (see {@linkcode relativeExptime}).
   * @returns The item's slot, or -1 on a miss.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  touch(key: Uint8Array, exptime: number): number {
    checkKey(key);
    const now = this.#clock.now();
    const slot = this.#lookup(key, hashKey(key), now);
    if (slot < 0) {
      this.#touchMisses++;
      return -1;
    }
    const base = slot * STRIDE;
    this.#meta[base + F_EXPTIME] = relativeExptime(exptime, this.#clock);
    this.#meta[base + F_INFO] |= INFO_FETCHED;
    this.#bump(slot, now);
    this.#classStats[this.#classOf(base) * C_COUNT + C_TOUCH_HITS]++;
    return slot;
  }

  /** Whether `slot` holds an item (it may have expired since; lookups check that). */
  isLive(slot: number): boolean {
    return slot >= 0 && slot < this.#slotCount &&
      (this.#meta[slot * STRIDE + F_INFO] & INFO_LINKED) !== 0;
  }

  /** The item's client flags, an unsigned 32-bit integer. */
  flags(slot: number): number {
    return this.#meta[slot * STRIDE + F_FLAGS] >>> 0;
  }

  /**
   * The item's cas unique: a counter shared by all items, bumped on every
   * change, 0 when cas is off. Exact as a number (it would take centuries
   * at a million changes a second to pass 2^53).
   */
  casUnique(slot: number): number {
    return casAt(this.#meta, slot * STRIDE);
  }

  /** Bytes in the item's value. */
  valueLength(slot: number): number {
    return this.#meta[slot * STRIDE + F_VLEN];
  }

  /** Bytes in the item's key. */
  keyLength(slot: number): number {
    return this.#meta[slot * STRIDE + F_INFO] & 0xff;
  }

  /** A view of the item's value inside its page, valid until the store next changes. */
  value(slot: number): Uint8Array {
    const base = slot * STRIDE;
    const start = this.#meta[base + F_OFFSET] + (this.#meta[base + F_INFO] & 0xff);
    return this.#slab.pages[this.#meta[base + F_PAGE]].subarray(
      start,
      start + this.#meta[base + F_VLEN],
    );
  }

  /** A view of the item's key inside its page, valid until the store next changes. */
  key(slot: number): Uint8Array {
    const base = slot * STRIDE;
    const start = this.#meta[base + F_OFFSET];
    return this.#slab.pages[this.#meta[base + F_PAGE]].subarray(
      start,
      start + (this.#meta[base + F_INFO] & 0xff),
    );
  }

  /**
   * The page holding the item, for copying without making a view: the key
   * starts at {@linkcode LruStore.prototype.keyOffset}, the value right after
   * it, and the value is followed by CRLF.
   */
  page(slot: number): Uint8Array {
    return this.#slab.pages[this.#meta[slot * STRIDE + F_PAGE]];
  }

  /** Where the item's key starts in {@linkcode LruStore.prototype.page}. */
  keyOffset(slot: number): number {
    return this.#meta[slot * STRIDE + F_OFFSET];
  }

  /** Where the item's value starts in {@linkcode LruStore.prototype.page}. */
  valueOffset(slot: number): number {
    const base = slot * STRIDE;
    return this.#meta[base + F_OFFSET] + (this.#meta[base + F_INFO] & 0xff);
  }

  /**
   * Copies the item's value and the CRLF after it (a reply's data block).
   * Up to 32 bytes are copied by a loop; longer data makes one short-lived
   * view, which is still faster than a loop. To copy with no allocation at
   * all, use {@linkcode LruStore.prototype.page} and the offsets.
   *
   * @param slot The item.
   * @param target Where to copy to; it must have room.
   * @param offset Where in `target` to start.
   * @returns The offset in `target` just past the CRLF.
   */
  copyData(slot: number, target: Uint8Array, offset: number): number {
    const base = slot * STRIDE;
    const page = this.#slab.pages[this.#meta[base + F_PAGE]];
    const start = this.#meta[base + F_OFFSET] + (this.#meta[base + F_INFO] & 0xff);
    const n = this.#meta[base + F_VLEN] + 2;
    if (n <= 32) {
      // Below ~48 bytes a loop beats making a view; above, set() wins (measured).
      for (let i = 0; i < n; i++) target[offset + i] = page[start + i];
    } else {
      target.set(page.subarray(start, start + n), offset);
    }
    return offset + n;
  }

  /**
   * Copies the item's key.
   *
   * @returns The offset in `target` just past the key.
   */
  copyKey(slot: number, target: Uint8Array, offset: number): number {
    const base = slot * STRIDE;
    const page = this.#slab.pages[this.#meta[base + F_PAGE]];
    const start = this.#meta[base + F_OFFSET];
    const n = this.#meta[base + F_INFO] & 0xff;
    for (let i = 0; i < n; i++) target[offset + i] = page[start + i];
    return offset + n;
  }

  /** The item's exptime on the relative clock; 0 means never. */
  exptime(slot: number): number {
    return this.#meta[slot * STRIDE + F_EXPTIME] >>> 0;
  }

  /** Seconds until the item expires, -1 if never (memcached's meta `t` flag). */
  ttl(slot: number): number {
    const exptime = this.#meta[slot * STRIDE + F_EXPTIME] >>> 0;
    return exptime === 0 ? -1 : exptime - this.#clock.now();
  }

  /** When the item was last stored or fetched, on the relative clock. */
  lastAccess(slot: number): number {
    return this.#meta[slot * STRIDE + F_TIME];
  }

  /** Whether the item was fetched since it was stored. */
  fetched(slot: number): boolean {
    return (this.#meta[slot * STRIDE + F_INFO] & INFO_FETCHED) !== 0;
  }

  /** The size class holding the item. */
  classId(slot: number): number {
    return this.#classOf(slot * STRIDE);
  }

  /** The item's size by memcached's formula, as counted in `bytes`. */
  itemSize(slot: number): number {
    return this.#sizeAt(slot * STRIDE);
  }

  // ---------------------------------------------------------------- storing

  /**
   * Stores a value, as `set`. A value too large for `maxItemSize` gives
   * `TOO_LARGE` and, as in memcached, deletes the key's old value, as does
   * `NO_MEMORY`, so a failed set never leaves stale data behind.
   *
   * The parameters follow the command line; positional, so this hot path
   * makes no options object.
   *
   * @param key The key bytes (1 to 250 bytes); copied.
   * @param flags Client flags, an unsigned 32-bit integer.
   * @param exptime The exptime as sent on the wire (see {@linkcode relativeExptime}).
   * @param value The value bytes; copied. Not a view returned by this store.
   * @returns `STORED`, `TOO_LARGE` or `NO_MEMORY`.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  set(key: Uint8Array, flags: number, exptime: number, value: Uint8Array): StoreResult {
    return this.#store(SET, key, flags, exptime, value, 0);
  }

  /**
   * Stores a value only if the key is missing, as `add`; a present key
   * becomes the most recently used item and the result is `NOT_STORED`.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  add(key: Uint8Array, flags: number, exptime: number, value: Uint8Array): StoreResult {
    return this.#store(ADD, key, flags, exptime, value, 0);
  }

  /**
   * Stores a value only if the key is present, as `replace`.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  replace(key: Uint8Array, flags: number, exptime: number, value: Uint8Array): StoreResult {
    return this.#store(REPLACE, key, flags, exptime, value, 0);
  }

  /**
   * Adds bytes after a present item's value, as `append`; the item keeps
   * its flags and exptime (those on the command line are ignored, as in
   * memcached). A result too large is `NOT_STORED`.
   *
   * @returns `STORED`, `NOT_STORED` (missing key, or too large), `TOO_LARGE`
   * (the new bytes alone) or `NO_MEMORY`.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  append(key: Uint8Array, value: Uint8Array): StoreResult {
    return this.#store(APPEND, key, 0, 0, value, 0);
  }

  /**
   * Adds bytes before a present item's value, as `prepend`; see
   * {@linkcode LruStore.prototype.append}.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  prepend(key: Uint8Array, value: Uint8Array): StoreResult {
    return this.#store(PREPEND, key, 0, 0, value, 0);
  }

  /**
   * Stores a value only if the item is unchanged since the client read
   * `unique`, as `cas`: `NOT_FOUND` for a missing key, `EXISTS` when the
   * unique differs (always, when cas is off or `unique` is 0).
   *
   * @param unique The cas unique from `gets`, 0 to 2^64 - 1.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  cas(
    key: Uint8Array,
    flags: number,
    exptime: number,
    value: Uint8Array,
    unique: bigint | number,
  ): StoreResult {
    // Uniques stay below 2^53, and rounding keeps larger inputs at or above it.
    return this.#store(CAS, key, flags, exptime, value, Number(unique));
  }

  /**
   * Removes an item, as `delete`.
   *
   * @returns Whether there was a live item to remove (`DELETED`), or not (`NOT_FOUND`).
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  delete(key: Uint8Array): boolean {
    checkKey(key);
    const slot = this.#lookup(key, hashKey(key), this.#clock.now());
    if (slot < 0) {
      this.#deleteMisses++;
      return false;
    }
    this.#classStats[this.#classOf(slot * STRIDE) * C_COUNT + C_DELETE_HITS]++;
    this.#unlink(slot);
    return true;
  }

  /**
   * Adds to a decimal value, as `incr`: unsigned 64-bit, wrapping at 2^64.
   * A shorter result is written in place padded with spaces, as memcached
   * does; a longer one makes a new item with the same flags and exptime.
   *
   * @param key The key bytes.
   * @param delta 0 to 2^64 - 1.
   * @returns The new value, `"NOT_FOUND"`, `"NON_NUMERIC"` (the value is not
   * a decimal number below 2^64) or `"NO_MEMORY"`.
   * @throws {RangeError} If the key is bad or `delta` is out of range.
   */
  incr(key: Uint8Array, delta: bigint): DeltaResult {
    return this.#delta(key, delta, true) as DeltaResult;
  }

  /**
   * Subtracts from a decimal value, as `decr`, stopping at 0; see
   * {@linkcode LruStore.prototype.incr}.
   *
   * @throws {RangeError} If the key is bad or `delta` is out of range.
   */
  decr(key: Uint8Array, delta: bigint): DeltaResult {
    return this.#delta(key, delta, false) as DeltaResult;
  }

  // ---------------------------------------------------------------- meta

  /**
   * Looks up a key without touching it, as memcached's lookups with
   * DONT_UPDATE: no LRU bump, no fetched mark, no hit or miss counted (an
   * expired or flushed item found on the way is still reclaimed and counted).
   *
   * @param key The key bytes.
   * @returns The item's slot, or -1 on a miss.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  peek(key: Uint8Array): number {
    checkKey(key);
    return this.#lookup(key, hashKey(key), this.#clock.now());
  }

  /**
   * Reads, ahead of a multi-get, the index entry, metadata and first key
   * bytes of up to {@linkcode PREFETCH_BATCH} keys from `from`, one stage
   * for all keys before the next. Each stage's memory reads do not depend on
   * one another, so the processor waits for their cache misses together
   * rather than three times per key; the lookups that follow find the lines
   * cached. Changes nothing.
   *
   * @param keys The keys about to be looked up.
   * @param from The first of them to read.
   * @returns How many keys it read ahead.
   */
  prefetch(keys: readonly Uint8Array[], from: number): number {
    const count = Math.min(keys.length - from, PREFETCH_BATCH);
    const ahead = this.#ahead;
    const buckets = this.#buckets;
    const mask = this.#hashMask;
    const meta = this.#meta;
    const pages = this.#slab.pages;
    let sink = 0;
    for (let i = 0; i < count; i++) {
      const key = keys[from + i];
      ahead[i] = key.length > 0 ? buckets[hashKey(key) & mask] : -1;
    }
    for (let i = 0; i < count; i++) {
      const slot = ahead[i];
      if (slot < 0) continue;
      const base = slot * STRIDE;
      // The row's first and last fields: a row may straddle two cache lines.
      sink ^= meta[base + F_INFO];
      ahead[PREFETCH_BATCH + i] = meta[base + F_PAGE];
      ahead[2 * PREFETCH_BATCH + i] = meta[base + F_OFFSET];
    }
    for (let i = 0; i < count; i++) {
      if (ahead[i] < 0) continue;
      const page = pages[ahead[PREFETCH_BATCH + i]];
      if (page !== undefined) sink ^= page[ahead[2 * PREFETCH_BATCH + i]];
    }
    this.#sink ^= sink;
    return count;
  }

  /** Marks an item fetched and makes it the most recently used (memcached's do_item_bump). */
  fetch(slot: number): void {
    this.#meta[slot * STRIDE + F_INFO] |= INFO_FETCHED;
    this.#bump(slot, this.#clock.now());
  }

  /**
   * Counts a meta get: a hit of `slot` (or a miss when -1) in `get_hits`, or
   * in `touch_hits` when the get also touched.
   */
  countGet(slot: number, touch: boolean): void {
    if (slot < 0) {
      if (touch) this.#touchMisses++;
      else this.#getMisses++;
      return;
    }
    this
      .#classStats[this.#classOf(slot * STRIDE) * C_COUNT + (touch ? C_TOUCH_HITS : C_GET_HITS)]++;
  }

  /** Gives an item a new exptime, as sent on the wire. */
  setExptime(slot: number, exptime: number): void {
    this.#meta[slot * STRIDE + F_EXPTIME] = relativeExptime(exptime, this.#clock);
  }

  /** Whether the item is marked stale (by `md I`, or an `ms I` with an old cas). */
  stale(slot: number): boolean {
    return (this.#meta[slot * STRIDE + F_INFO] & INFO_STALE) !== 0;
  }

  /** Whether a client has been told it won the right to recache the item (`W`). */
  tokenSent(slot: number): boolean {
    return (this.#meta[slot * STRIDE + F_INFO] & INFO_TOKEN_SENT) !== 0;
  }

  /** Records that a client won the right to recache the item. */
  markTokenSent(slot: number): void {
    this.#meta[slot * STRIDE + F_INFO] |= INFO_TOKEN_SENT;
  }

  /** Whether the item was stored by an `ms` whose key came in base64. */
  binaryKey(slot: number): boolean {
    return (this.#meta[slot * STRIDE + F_INFO] & INFO_KEY_BINARY) !== 0;
  }

  /**
   * Marks an item stale instead of deleting it, as `md I`: a new cas, the
   * win token free again, and optionally a new exptime.
   *
   * @param exptime The new exptime as on the wire, or undefined to keep it.
   */
  invalidate(slot: number, exptime?: number): void {
    const meta = this.#meta;
    const base = slot * STRIDE;
    if (exptime !== undefined) meta[base + F_EXPTIME] = relativeExptime(exptime, this.#clock);
    meta[base + F_INFO] = (meta[base + F_INFO] | INFO_STALE) & ~INFO_TOKEN_SENT;
    setCas(meta, base, this.#nextCas());
  }

  /** Deletes a looked-up item, counting a delete hit. */
  remove(slot: number): void {
    this.#classStats[this.#classOf(slot * STRIDE) * C_COUNT + C_DELETE_HITS]++;
    this.#unlink(slot);
  }

  /** Counts a delete that found nothing to delete (`delete_misses`). */
  countDeleteMiss(): void {
    this.#deleteMisses++;
  }

  /**
   * Removes an item without counting anything, as memcached drops the old
   * value when a store cannot allocate its new item.
   */
  discard(key: Uint8Array): void {
    const slot = this.peek(key);
    if (slot >= 0) this.#unlink(slot);
  }

  /**
   * Creates an item for a key that missed (`mg N`, `ma N`): flags 0, no
   * exptime, the given value, a fresh cas; not counted as a set.
   *
   * @returns The new item's slot, or -1 when there is no memory.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  vivify(key: Uint8Array, value: Uint8Array): number {
    const klen = checkKey(key);
    const now = this.#clock.now();
    const cls = this.#slab.classFor(klen + value.length + 2);
    if (this.#insert(key, klen, value, 0, 0, cls, hashKey(key), now) !== "STORED") return -1;
    return this.#lastSlot;
  }

  /**
   * Stores a value as `ms` does: the modes of the classic storage commands,
   * a cas to compare that turns set and replace into cas (and guards append
   * and prepend), and `invalidate`, which stores a value with an older cas
   * marked stale.
   *
   * @returns As the classic commands; after `STORED`,
   * {@linkcode LruStore.prototype.lastSlot} is the item.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  metaSet(key: Uint8Array, value: Uint8Array, options: MetaSetOptions = {}): StoreResult {
    const { flags = 0, exptime = 0, cas, invalidate = false, binaryKey = false } = options;
    const mode = options.mode ?? "set";
    let code = { set: SET, add: ADD, replace: REPLACE, append: APPEND, prepend: PREPEND }[mode];
    if (cas !== undefined && (code === SET || code === REPLACE)) code = CAS;
    const unique = cas === undefined ? 0 : Number(cas);
    const stale = invalidate && code === CAS;
    const result = this.#store(code, key, flags, exptime, value, unique, stale);
    if (result === "STORED" && binaryKey) {
      this.#meta[this.#lastSlot * STRIDE + F_INFO] |= INFO_KEY_BINARY;
    }
    return result;
  }

  /**
   * Adds to or subtracts from a decimal value, as `ma`: like
   * {@linkcode LruStore.prototype.incr}, but a non-zero `cas` must match
   * the item's. After a number, {@linkcode LruStore.prototype.lastSlot} is the item.
   *
   * @throws {RangeError} If the key is bad or `delta` is out of range.
   */
  metaDelta(key: Uint8Array, delta: bigint, options: MetaDeltaOptions): MetaDeltaResult {
    const { incr, cas = 0n, countMiss = true } = options;
    return this.#delta(key, delta, incr, Number(cas), countMiss);
  }

  /** The item the last successful store, vivify or delta wrote. */
  get lastSlot(): number {
    return this.#lastSlot;
  }

  /**
   * Invalidates every item, as `flush_all`: now, or at a future exptime.
   * Items accessed at or before the flush point become misses; memory is
   * given back lazily, by lookups, allocation and `sweep`.
   *
   * @param exptime 0 (or negative) for now, else an exptime as on the wire.
   */
  flushAll(exptime = 0): void {
    const now = this.#clock.now();
    const newOldest = exptime > 0 ? relativeExptime(exptime, this.#clock) : now;
    if (this.#useCas) {
      // Items of this very second are told apart by cas: older uniques are flushed.
      this.#oldestLive = newOldest - 1;
      if (this.#oldestLive <= now) this.#oldestCas = ++this.#casId;
    } else {
      this.#oldestLive = newOldest;
    }
  }

  /**
   * Reclaims expired and flushed items without a read, walking each class's
   * LRU from the tail, as memcached's LRU crawler. Call it on each tick; it
   * resumes where it stopped.
   *
   * @param maxItems The most items to look at in this call.
   * @returns How many items were reclaimed.
   */
  sweep(maxItems: number): number {
    const now = this.#clock.now();
    const largest = this.#slab.largest;
    const meta = this.#meta;
    let budget = maxItems;
    let reclaimed = 0;
    for (let i = 0; i < largest && budget > 0; i++) {
      const cls = this.#sweepClass;
      let slot = this.#cursors[cls];
      if (slot < 0) slot = this.#tails[cls];
      while (slot >= 0 && budget > 0) {
        budget--;
        const base = slot * STRIDE;
        const prev = meta[base + F_PREV];
        if (this.#deadness(base, now) !== LIVE) {
          const row = cls * C_COUNT;
          this.#reclaimed++;
          this.#crawlerReclaimed++;
          this.#classStats[row + C_RECLAIMED]++;
          this.#classStats[row + C_CRAWLER_RECLAIMED]++;
          if ((meta[base + F_INFO] & INFO_FETCHED) === 0) {
            this.#expiredUnfetched++;
            this.#classStats[row + C_EXPIRED_UNFETCHED]++;
          }
          this.#unlink(slot);
          reclaimed++;
        }
        slot = prev;
      }
      this.#cursors[cls] = slot;
      if (slot < 0) this.#sweepClass = cls === largest ? 1 : cls + 1;
    }
    return reclaimed;
  }

  // ------------------------------------------------------------------ stats

  /** The global counters for `stats`. */
  stats(): StoreStats {
    let getHits = 0;
    let touchHits = 0;
    let deleteHits = 0;
    let incrHits = 0;
    let decrHits = 0;
    let casHits = 0;
    let casBadval = 0;
    let cmdSet = 0;
    const s = this.#classStats;
    for (let c = 1; c <= this.#slab.largest; c++) {
      const row = c * C_COUNT;
      getHits += s[row + C_GET_HITS];
      touchHits += s[row + C_TOUCH_HITS];
      deleteHits += s[row + C_DELETE_HITS];
      incrHits += s[row + C_INCR_HITS];
      decrHits += s[row + C_DECR_HITS];
      casHits += s[row + C_CAS_HITS];
      casBadval += s[row + C_CAS_BADVAL];
      cmdSet += s[row + C_CMD_SET];
    }
    return {
      currItems: this.#currItems,
      totalItems: this.#totalItems,
      bytes: this.#bytes,
      evictions: this.#evictions,
      reclaimed: this.#reclaimed,
      expiredUnfetched: this.#expiredUnfetched,
      evictedUnfetched: this.#evictedUnfetched,
      evictedNonzero: this.#evictedNonzero,
      getExpired: this.#getExpired,
      getFlushed: this.#getFlushed,
      crawlerReclaimed: this.#crawlerReclaimed,
      limitMaxbytes: this.#slab.maxBytes,
      totalMalloced: this.#slab.memBytes,
      slabsMoved: this.#slabsMoved,
      slabReassignRescues: this.#rescues,
      slabReassignEvictionsNomem: this.#moveEvictions,
      hashPowerLevel: this.#hashPower,
      hashBytes: this.#buckets.byteLength,
      oldestLive: this.#oldestLive,
      getHits,
      getMisses: this.#getMisses,
      touchHits,
      touchMisses: this.#touchMisses,
      deleteHits,
      deleteMisses: this.#deleteMisses,
      incrHits,
      incrMisses: this.#incrMisses,
      decrHits,
      decrMisses: this.#decrMisses,
      casHits,
      casMisses: this.#casMisses,
      casBadval,
      cmdSet,
    };
  }

  /** Items stored now (`curr_items`), without building the stats object. */
  get currItems(): number {
    return this.#currItems;
  }

  /** Sum of memcached item sizes (`bytes`), without building the stats object. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of pages handed out; never more than `maxBytes`. */
  get totalMalloced(): number {
    return this.#slab.memBytes;
  }

  /** Every size class, by id from 1, for `stats slabs` and `stats items`. */
  slabClasses(): SlabClassStats[] {
    const slab = this.#slab;
    const now = this.#clock.now();
    const s = this.#classStats;
    const out: SlabClassStats[] = [];
    for (let c = 1; c <= slab.largest; c++) {
      const row = c * C_COUNT;
      const pages = slab.classPages[c];
      const total = pages * slab.perPage[c];
      const free = slab.freeChunks(c);
      const tail = this.#tails[c];
      const oldestTime = tail < 0 ? -1 : this.#meta[tail * STRIDE + F_TIME];
      out.push({
        id: c,
        chunkSize: slab.chunkSize[c],
        chunksPerPage: slab.perPage[c],
        pageSize: slab.pageBytes[c],
        totalPages: pages,
        totalChunks: total,
        usedChunks: total - free,
        freeChunks: free,
        freeChunksEnd: slab.freeChunksEnd(c),
        items: s[row + C_NUMBER],
        oldestTime,
        age: tail < 0 ? 0 : now - oldestTime,
        requestedBytes: s[row + C_MEM_REQUESTED],
        evicted: s[row + C_EVICTED],
        evictedNonzero: s[row + C_EVICTED_NONZERO],
        evictedTime: s[row + C_EVICTED_TIME],
        outOfMemory: s[row + C_OUTOFMEMORY],
        reclaimed: s[row + C_RECLAIMED],
        expiredUnfetched: s[row + C_EXPIRED_UNFETCHED],
        evictedUnfetched: s[row + C_EVICTED_UNFETCHED],
        crawlerReclaimed: s[row + C_CRAWLER_RECLAIMED],
        getHits: s[row + C_GET_HITS],
        setCmds: s[row + C_CMD_SET],
        deleteHits: s[row + C_DELETE_HITS],
        incrHits: s[row + C_INCR_HITS],
        decrHits: s[row + C_DECR_HITS],
        casHits: s[row + C_CAS_HITS],
        casBadval: s[row + C_CAS_BADVAL],
        touchHits: s[row + C_TOUCH_HITS],
      });
    }
    return out;
  }

  /**
   * Zeroes the counters, as `stats reset`: everything but what describes
   * the store now (items, bytes, pages, the hash table).
   */
  resetStats(): void {
    this.#totalItems = 0;
    this.#evictions = 0;
    this.#reclaimed = 0;
    this.#expiredUnfetched = 0;
    this.#evictedUnfetched = 0;
    this.#evictedNonzero = 0;
    this.#getExpired = 0;
    this.#getFlushed = 0;
    this.#crawlerReclaimed = 0;
    this.#slabsMoved = 0;
    this.#rescues = 0;
    this.#moveEvictions = 0;
    this.#getMisses = 0;
    this.#touchMisses = 0;
    this.#deleteMisses = 0;
    this.#incrMisses = 0;
    this.#decrMisses = 0;
    this.#casMisses = 0;
    const s = this.#classStats;
    for (let c = 0; c <= this.#slab.largest; c++) {
      const row = c * C_COUNT;
      for (let k = 0; k < C_COUNT; k++) {
        if (k !== C_NUMBER && k !== C_MEM_REQUESTED) s[row + k] = 0;
      }
    }
  }

  // -------------------------------------------------------------- internals

  #classOf(base: number): number {
    return (this.#meta[base + F_INFO] >> 8) & 0xff;
  }

  #sizeAt(base: number): number {
    const meta = this.#meta;
    return itemSize(
      meta[base + F_INFO] & 0xff,
      meta[base + F_FLAGS],
      meta[base + F_VLEN],
      this.#useCas,
    );
  }

  #nextCas(): number {
    return this.#useCas ? ++this.#casId : 0;
  }

  /** LIVE, or why the item at `base` must not be returned (memcached's flush check first). */
  #deadness(base: number, now: number): number {
    const meta = this.#meta;
    const oldestLive = this.#oldestLive;
    if (oldestLive !== 0 && oldestLive <= now) {
      if (meta[base + F_TIME] <= oldestLive) return FLUSHED;
      const oldestCas = this.#oldestCas;
      if (oldestCas !== 0) {
        const cas = casAt(meta, base);
        if (cas !== 0 && cas < oldestCas) return FLUSHED;
      }
    }
    const exptime = meta[base + F_EXPTIME] >>> 0;
    return exptime !== 0 && exptime <= now ? EXPIRED : LIVE;
  }

  /** memcached's do_item_get: finds a live item, unlinking a dead one on the way. */
  #lookup(key: Uint8Array, hash: number, now: number): number {
    const meta = this.#meta;
    const klen = key.length;
    let slot = this.#buckets[hash & this.#hashMask];
    while (slot >= 0) {
      const base = slot * STRIDE;
      if (
        meta[base + F_HASH] === hash && (meta[base + F_INFO] & 0xff) === klen &&
        this.#keyEquals(base, key, klen)
      ) {
        const dead = this.#deadness(base, now);
        if (dead === LIVE) return slot;
        if (dead === FLUSHED) this.#getFlushed++;
        else this.#getExpired++;
        this.#unlink(slot);
        return -1;
      }
      slot = meta[base + F_HNEXT];
    }
    return -1;
  }

  #keyEquals(base: number, key: Uint8Array, klen: number): boolean {
    const page = this.#slab.pages[this.#meta[base + F_PAGE]];
    const start = this.#meta[base + F_OFFSET];
    for (let i = 0; i < klen; i++) {
      if (page[start + i] !== key[i]) return false;
    }
    return true;
  }

  /**
   * Stamps an item's access time and marks it active. As memcached, a hit
   * does not relink the item: relinking would read both its LRU neighbours,
   * two more cache misses per hit. An active item that reaches the tail is
   * moved to the head instead of being evicted (`#allocChunk`).
   */
  #bump(slot: number, now: number): void {
    const base = slot * STRIDE;
    this.#meta[base + F_TIME] = now;
    this.#meta[base + F_INFO] |= INFO_ACTIVE;
  }

  #lruPush(slot: number, cls: number): void {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const head = this.#heads[cls];
    meta[base + F_PREV] = -1;
    meta[base + F_NEXT] = head;
    if (head >= 0) meta[head * STRIDE + F_PREV] = slot;
    else this.#tails[cls] = slot;
    this.#heads[cls] = slot;
  }

  #lruRemove(slot: number, cls: number): void {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const prev = meta[base + F_PREV];
    const next = meta[base + F_NEXT];
    if (this.#cursors[cls] === slot) this.#cursors[cls] = prev;
    if (prev >= 0) meta[prev * STRIDE + F_NEXT] = next;
    else this.#heads[cls] = next;
    if (next >= 0) meta[next * STRIDE + F_PREV] = prev;
    else this.#tails[cls] = prev;
  }

  /** Removes an item from the index, its LRU and its chunk, and frees its slot. */
  #unlink(slot: number): void {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const cls = this.#classOf(base);
    const bucket = meta[base + F_HASH] & this.#hashMask;
    let s = this.#buckets[bucket];
    if (s === slot) {
      this.#buckets[bucket] = meta[base + F_HNEXT];
    } else {
      while (meta[s * STRIDE + F_HNEXT] !== slot) s = meta[s * STRIDE + F_HNEXT];
      meta[s * STRIDE + F_HNEXT] = meta[base + F_HNEXT];
    }
    this.#lruRemove(slot, cls);
    const size = this.#sizeAt(base);
    this.#currItems--;
    this.#bytes -= size;
    this.#classStats[cls * C_COUNT + C_NUMBER]--;
    this.#classStats[cls * C_COUNT + C_MEM_REQUESTED] -= size;
    this.#slab.free(meta[base + F_PAGE], meta[base + F_OFFSET]);
    meta[base + F_INFO] = 0;
    meta[base + F_NEXT] = this.#freeSlot;
    this.#freeSlot = slot;
  }

  #newSlot(): number {
    const slot = this.#freeSlot;
    if (slot >= 0) {
      this.#freeSlot = this.#meta[slot * STRIDE + F_NEXT];
      return slot;
    }
    if ((this.#slotCount + 1) * STRIDE > this.#meta.length) {
      const grown = new Int32Array(this.#meta.length * 2);
      grown.set(this.#meta);
      this.#meta = grown;
    }
    return this.#slotCount++;
  }

  #releaseSlot(slot: number): void {
    const base = slot * STRIDE;
    this.#meta[base + F_INFO] = 0;
    this.#meta[base + F_NEXT] = this.#freeSlot;
    this.#freeSlot = slot;
  }

  /** Links a new item into the index, the head of its LRU and the counters. */
  #link(slot: number, cls: number, hash: number): void {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const bucket = hash & this.#hashMask;
    meta[base + F_HASH] = hash;
    meta[base + F_HNEXT] = this.#buckets[bucket];
    this.#buckets[bucket] = slot;
    this.#lruPush(slot, cls);
    const size = this.#sizeAt(base);
    this.#currItems++;
    this.#totalItems++;
    this.#bytes += size;
    this.#classStats[cls * C_COUNT + C_NUMBER]++;
    this.#classStats[cls * C_COUNT + C_MEM_REQUESTED] += size;
    // memcached grows its table past 1.5 items per bucket.
    if (this.#currItems > (this.#hashMask + 1) * 1.5 && this.#hashPower < 30) this.#growHash();
  }

  #growHash(): void {
    const meta = this.#meta;
    const old = this.#buckets;
    this.#hashPower++;
    this.#hashMask = (1 << this.#hashPower) - 1;
    const buckets = new Int32Array(1 << this.#hashPower).fill(-1);
    for (let b = 0; b < old.length; b++) {
      let slot = old[b];
      while (slot >= 0) {
        const base = slot * STRIDE;
        const next = meta[base + F_HNEXT];
        const bucket = meta[base + F_HASH] & this.#hashMask;
        meta[base + F_HNEXT] = buckets[bucket];
        buckets[bucket] = slot;
        slot = next;
      }
    }
    this.#buckets = buckets;
  }

  /**
   * Finds a chunk of class `cls` for `owner`, as memcached's
   * do_item_alloc_pull: a free chunk or new page; else expired items at the
   * LRU tail, then the tail itself (unless evictions are off); else a page
   * taken from another class. `protect` is never evicted.
   */
  #allocChunk(cls: number, owner: number, protect: number, now: number): boolean {
    const slab = this.#slab;
    if (slab.alloc(cls, owner)) return true;
    const meta = this.#meta;
    const row = cls * C_COUNT;
    const stats = this.#classStats;
    // An empty page elsewhere costs nothing to take; prefer it to an eviction.
    if (slab.emptyPages > 0 && this.#movePage(cls, protect, true) && slab.alloc(cls, owner)) {
      return true;
    }
    let slot = this.#tails[cls];
    let chances = MAX_SECOND_CHANCES;
    for (let tries = 5; tries > 0 && slot >= 0; tries--) {
      const base = slot * STRIDE;
      const prev = meta[base + F_PREV];
      if (slot === protect) {
        slot = prev;
        continue;
      }
      const info = meta[base + F_INFO];
      if (
        (info & INFO_ACTIVE) !== 0 && chances > 0 && slot !== this.#heads[cls] &&
        this.#deadness(base, now) === LIVE
      ) {
        // Used since it was last here: to the head, and that was not a try.
        chances--;
        tries++;
        meta[base + F_INFO] = info & ~INFO_ACTIVE;
        this.#lruRemove(slot, cls);
        this.#lruPush(slot, cls);
        slot = prev;
        continue;
      }
      const unfetched = (meta[base + F_INFO] & INFO_FETCHED) === 0;
      if (this.#deadness(base, now) !== LIVE) {
        this.#reclaimed++;
        stats[row + C_RECLAIMED]++;
        if (unfetched) {
          this.#expiredUnfetched++;
          stats[row + C_EXPIRED_UNFETCHED]++;
        }
        this.#unlink(slot);
        if (slab.alloc(cls, owner)) return true;
        slot = prev;
        continue;
      }
      if (!this.#evict) break;
      this.#countEviction(base, row, now);
      this.#unlink(slot);
      if (slab.alloc(cls, owner)) return true;
      break;
    }
    // The class has nothing it may give up: take pages from other classes.
    while (this.#movePage(cls, protect, false)) {
      if (slab.alloc(cls, owner)) return true;
    }
    stats[row + C_OUTOFMEMORY]++;
    return false;
  }

  #countEviction(base: number, row: number, now: number): void {
    const meta = this.#meta;
    const stats = this.#classStats;
    this.#evictions++;
    stats[row + C_EVICTED]++;
    stats[row + C_EVICTED_TIME] = now - meta[base + F_TIME];
    if (meta[base + F_EXPTIME] !== 0) {
      this.#evictedNonzero++;
      stats[row + C_EVICTED_NONZERO]++;
    }
    if ((meta[base + F_INFO] & INFO_FETCHED) === 0) {
      this.#evictedUnfetched++;
      stats[row + C_EVICTED_UNFETCHED]++;
    }
  }

  /**
   * Empties one page of another class into the global pool, where the next
   * new page comes from. An empty page goes first; else, when `emptyOnly`
   * is false, the page with the fewest items in the class with the oldest
   * LRU tail, whose items move to free chunks of their class or, if
   * evictions are on, are evicted. A page holding `protect` is never taken.
   */
  #movePage(cls: number, protect: number, emptyOnly: boolean): boolean {
    const slab = this.#slab;
    const meta = this.#meta;
    const protectPage = protect >= 0 ? meta[protect * STRIDE + F_PAGE] : -1;
    const count = slab.pageCount;
    let victim = -1;
    for (let p = 0; p < count; p++) {
      const c = slab.pageClass[p];
      if (c > 0 && c !== cls && slab.pageUsed[p] === 0) {
        victim = p;
        break;
      }
    }
    if (victim < 0 && !emptyOnly) {
      // Classes give up a page in order of their least recently used item, oldest first.
      const tried = new Uint8Array(slab.largest + 1);
      for (let round = 0; round < slab.largest && victim < 0; round++) {
        let oldest = Infinity;
        let from = -1;
        for (let c = 1; c <= slab.largest; c++) {
          if (c === cls || tried[c] === 1 || this.#tails[c] < 0) continue;
          const time = meta[this.#tails[c] * STRIDE + F_TIME];
          if (time < oldest) {
            oldest = time;
            from = c;
          }
        }
        if (from < 0) break;
        tried[from] = 1;
        let fewest = Infinity;
        for (let p = 0; p < count; p++) {
          if (slab.pageClass[p] !== from || p === protectPage) continue;
          const used = slab.pageUsed[p];
          // Without evictions, only a page whose items all fit elsewhere in the class.
          const rescuable = used <= slab.freeChunks(from) -
              (slab.perPage[from] - slab.pageCarved[p]) - (slab.pageCarved[p] - used);
          if (used < fewest && (this.#evict || rescuable)) {
            fewest = used;
            victim = p;
          }
        }
      }
    }
    if (victim < 0) return false;
    const from = slab.detachPage(victim);
    const owners = slab.owners[victim];
    const carved = slab.pageCarved[victim];
    const size = slab.chunkSize[from];
    const source = slab.pages[victim];
    const row = from * C_COUNT;
    for (let i = 0; i < carved; i++) {
      const slot = owners[i];
      if (slot < 0) continue;
      const base = slot * STRIDE;
      if (slab.alloc(from, slot, false)) {
        const length = (meta[base + F_INFO] & 0xff) + meta[base + F_VLEN] + 2;
        const start = i * size;
        slab.pages[slab.allocPage].set(
          source.subarray(start, start + length),
          slab.allocOffset,
        );
        meta[base + F_PAGE] = slab.allocPage;
        meta[base + F_OFFSET] = slab.allocOffset;
        slab.free(victim, start);
        this.#rescues++;
      } else {
        this.#moveEvictions++;
        this.#countEviction(base, row, this.#clock.now());
        this.#unlink(slot);
      }
    }
    slab.poolPage(victim);
    this.#slabsMoved++;
    return true;
  }

  #store(
    mode: number,
    key: Uint8Array,
    flags: number,
    exptime: number,
    value: Uint8Array,
    unique: number,
    stale = false,
  ): StoreResult {
    const klen = checkKey(key);
    const vlen = value.length;
    flags = flags >>> 0;
    const now = this.#clock.now();
    const hash = hashKey(key);
    if (itemSize(klen, flags, vlen, this.#useCas) > this.#maxItemSize) {
      if (mode === SET) {
        // memcached: a failed set must not leave the old value behind.
        const old = this.#lookup(key, hash, now);
        if (old >= 0) this.#unlink(old);
      }
      return "TOO_LARGE";
    }
    const cls = this.#slab.classFor(klen + vlen + 2);
    this.#classStats[cls * C_COUNT + C_CMD_SET]++;
    const slot = this.#lookup(key, hash, now);
    if (slot < 0) {
      if (mode === CAS) {
        this.#casMisses++;
        return "NOT_FOUND";
      }
      if (mode !== SET && mode !== ADD) return "NOT_STORED";
      return this.#insert(
        key,
        klen,
        value,
        flags,
        relativeExptime(exptime, this.#clock),
        cls,
        hash,
        now,
      );
    }
    const base = slot * STRIDE;
    let staleBits = 0;
    switch (mode) {
      case ADD:
        this.#bump(slot, now);
        return "NOT_STORED";
      case CAS: {
        const row = this.#classOf(base) * C_COUNT;
        const current = casAt(this.#meta, base);
        if (unique === 0 || unique !== current) {
          // A unique of 0 is no cas at all, so it is never an older one.
          if (!stale || unique === 0 || unique >= current) {
            this.#classStats[row + C_CAS_BADVAL]++;
            return "EXISTS";
          }
          // memcached's ms I: an older cas stores anyway, stale, keeping the old exptime and win token.
          staleBits = INFO_STALE | (this.#meta[base + F_INFO] & INFO_TOKEN_SENT);
        }
        this.#classStats[row + C_CAS_HITS]++;
        break;
      }
      case APPEND:
      case PREPEND:
        // A meta append with a cas stores only over that cas; 0 means none given.
        if (unique !== 0 && unique !== casAt(this.#meta, base)) return "EXISTS";
        return this.#concat(slot, klen, value, mode === APPEND, now);
    }
    const exp = staleBits !== 0
      ? this.#meta[base + F_EXPTIME]
      : relativeExptime(exptime, this.#clock);
    if (!this.#rewrite(slot, klen, vlen, 0, now)) {
      if (mode === SET) this.#unlink(slot);
      return "NO_MEMORY";
    }
    const meta = this.#meta;
    const page = this.#slab.pages[meta[base + F_PAGE]];
    const start = meta[base + F_OFFSET] + klen;
    page.set(value, start);
    page[start + vlen] = CR;
    page[start + vlen + 1] = LF;
    meta[base + F_FLAGS] = flags;
    meta[base + F_EXPTIME] = exp;
    this.#finishRewrite(slot, vlen, now);
    meta[base + F_INFO] |= staleBits;
    return "STORED";
  }

  #insert(
    key: Uint8Array,
    klen: number,
    value: Uint8Array,
    flags: number,
    exptime: number,
    cls: number,
    hash: number,
    now: number,
  ): StoreResult {
    const slot = this.#newSlot();
    if (!this.#allocChunk(cls, slot, -1, now)) {
      this.#releaseSlot(slot);
      return "NO_MEMORY";
    }
    const slab = this.#slab;
    const page = slab.pages[slab.allocPage];
    const offset = slab.allocOffset;
    const vlen = value.length;
    page.set(key, offset);
    page.set(value, offset + klen);
    page[offset + klen + vlen] = CR;
    page[offset + klen + vlen + 1] = LF;
    const meta = this.#meta;
    const base = slot * STRIDE;
    meta[base + F_FLAGS] = flags;
    meta[base + F_EXPTIME] = exptime;
    meta[base + F_TIME] = now;
    setCas(meta, base, this.#nextCas());
    meta[base + F_VLEN] = vlen;
    meta[base + F_PAGE] = slab.allocPage;
    meta[base + F_OFFSET] = offset;
    meta[base + F_INFO] = klen | (cls << 8) | INFO_LINKED;
    this.#link(slot, cls, hash);
    this.#lastSlot = slot;
    return "STORED";
  }

  /**
   * Makes the chunk of a linked item fit a value of `vlen` bytes: the same
   * chunk if its class still fits, else a new chunk holding the key and the
   * first `keep` bytes of the old value (the old chunk is freed). Takes the
   * item out of its LRU and the counters; `#finishRewrite` puts it back.
   */
  #rewrite(slot: number, klen: number, vlen: number, keep: number, now: number): boolean {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const oldCls = this.#classOf(base);
    const cls = this.#slab.classFor(klen + vlen + 2);
    if (cls !== oldCls) {
      if (!this.#allocChunk(cls, slot, slot, now)) return false;
      const slab = this.#slab;
      // The old chunk may have moved while memory was found.
      const oldPage = meta[base + F_PAGE];
      const oldOffset = meta[base + F_OFFSET];
      slab.pages[slab.allocPage].set(
        slab.pages[oldPage].subarray(oldOffset, oldOffset + klen + keep),
        slab.allocOffset,
      );
      slab.free(oldPage, oldOffset);
      meta[base + F_PAGE] = slab.allocPage;
      meta[base + F_OFFSET] = slab.allocOffset;
    }
    this.#lruRemove(slot, oldCls);
    const size = this.#sizeAt(base);
    this.#bytes -= size;
    this.#classStats[oldCls * C_COUNT + C_NUMBER]--;
    this.#classStats[oldCls * C_COUNT + C_MEM_REQUESTED] -= size;
    meta[base + F_INFO] = klen | (cls << 8) | INFO_LINKED;
    return true;
  }

  /** Completes a rewrite as memcached's item_replace: a new cas, fresh access time, not fetched. */
  #finishRewrite(slot: number, vlen: number, now: number): void {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const cls = this.#classOf(base);
    meta[base + F_VLEN] = vlen;
    meta[base + F_TIME] = now;
    meta[base + F_INFO] &= ~INFO_FETCHED;
    setCas(meta, base, this.#nextCas());
    this.#lastSlot = slot;
    this.#lruPush(slot, cls);
    const size = this.#sizeAt(base);
    this.#bytes += size;
    this.#totalItems++;
    this.#classStats[cls * C_COUNT + C_NUMBER]++;
    this.#classStats[cls * C_COUNT + C_MEM_REQUESTED] += size;
  }

  #concat(
    slot: number,
    klen: number,
    value: Uint8Array,
    append: boolean,
    now: number,
  ): StoreResult {
    const meta = this.#meta;
    const base = slot * STRIDE;
    const oldLen = meta[base + F_VLEN];
    const addLen = value.length;
    const vlen = oldLen + addLen;
    if (itemSize(klen, meta[base + F_FLAGS], vlen, this.#useCas) > this.#maxItemSize) {
      return "NOT_STORED";
    }
    // The new bytes must survive the old value being moved around.
    if (value.buffer === this.#slab.pages[meta[base + F_PAGE]].buffer) value = value.slice();
    if (!this.#rewrite(slot, klen, vlen, oldLen, now)) return "NO_MEMORY";
    const page = this.#slab.pages[meta[base + F_PAGE]];
    const start = meta[base + F_OFFSET] + klen;
    if (append) {
      page.set(value, start + oldLen);
    } else {
      page.copyWithin(start + addLen, start, start + oldLen);
      page.set(value, start);
    }
    page[start + vlen] = CR;
    page[start + vlen + 1] = LF;
    this.#finishRewrite(slot, vlen, now);
    return "STORED";
  }

  #delta(
    key: Uint8Array,
    delta: bigint,
    incr: boolean,
    unique = 0,
    countMiss = true,
  ): MetaDeltaResult {
    checkKey(key);
    if (typeof delta !== "bigint" || delta < 0n || delta > U64_MASK) {
      throw new RangeError(`Cannot apply the delta: "${delta}" is not between 0 and 2^64 - 1`);
    }
    const now = this.#clock.now();
    const slot = this.#lookup(key, hashKey(key), now);
    if (slot < 0) {
      if (!countMiss) return "NOT_FOUND";
      if (incr) this.#incrMisses++;
      else this.#decrMisses++;
      return "NOT_FOUND";
    }
    const meta = this.#meta;
    const base = slot * STRIDE;
    const vlen = meta[base + F_VLEN];
    const klen = meta[base + F_INFO] & 0xff;
    let page = this.#slab.pages[meta[base + F_PAGE]];
    let start = meta[base + F_OFFSET] + klen;
    // memcached refuses an empty value before it compares a cas.
    if (vlen === 0) return "NON_NUMERIC";
    if (unique !== 0 && unique !== casAt(meta, base)) return "EXISTS";
    const current = parseUint64(page, start, vlen);
    if (current === undefined) return "NON_NUMERIC";
    const result = incr ? (current + delta) & U64_MASK : delta > current ? 0n : current - delta;
    this.#classStats[this.#classOf(base) * C_COUNT + (incr ? C_INCR_HITS : C_DECR_HITS)]++;
    const digits = result.toString();
    const n = digits.length;
    if (n <= vlen) {
      // memcached writes in place, padding with spaces to the old length.
      for (let i = 0; i < n; i++) page[start + i] = digits.charCodeAt(i);
      page.fill(SPACE, start + n, start + vlen);
      setCas(meta, base, this.#nextCas());
      this.#bump(slot, now);
      this.#lastSlot = slot;
      return result;
    }
    if (!this.#rewrite(slot, klen, n, 0, now)) return "NO_MEMORY";
    page = this.#slab.pages[meta[base + F_PAGE]];
    start = meta[base + F_OFFSET] + klen;
    for (let i = 0; i < n; i++) page[start + i] = digits.charCodeAt(i);
    page[start + n] = CR;
    page[start + n + 1] = LF;
    this.#finishRewrite(slot, n, now);
    return result;
  }
}

/** memcached's item size: header, cas, key and its NUL, flags if non-zero, value and CRLF. */
function itemSize(klen: number, flags: number, vlen: number, useCas: boolean): number {
  return ITEM_HEADER + (useCas ? 8 : 0) + klen + 1 + (flags !== 0 ? 4 : 0) + vlen + 2;
}

function casAt(meta: Int32Array, base: number): number {
  return (meta[base + F_CAS_HI] >>> 0) * TWO_32 + (meta[base + F_CAS_LO] >>> 0);
}

function setCas(meta: Int32Array, base: number, cas: number): void {
  meta[base + F_CAS_LO] = cas >>> 0;
  meta[base + F_CAS_HI] = Math.floor(cas / TWO_32);
}

function checkKey(key: Uint8Array): number {
  const n = key.length;
  if (n === 0 || n > KEY_MAX_LENGTH) {
    throw new RangeError(`Cannot use the key: its length "${n}" is not between 1 and 250 bytes`);
  }
  return n;
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create the store: ${name} "${value}" is not an integer of at least ${min}`,
    );
  }
}

/** MurmurHash3 (x86, 32-bit) of the key bytes, as an int32. */
function hashKey(key: Uint8Array): number {
  const n = key.length;
  let h = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest !== 0) {
    let k = key[i];
    if (rest > 1) k ^= key[i + 1] << 8;
    if (rest > 2) k ^= key[i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function isSpace(b: number): boolean {
  return b === SPACE || (b >= 9 && b <= 13);
}

/**
 * memcached's safe_strtoull over the value bytes: leading whitespace, an
 * optional sign, decimal digits, then the end or whitespace. A `-` is
 * allowed only when the negated result still looks non-negative as a signed
 * 64-bit number, as strtoull wraps it.
 */
function parseUint64(page: Uint8Array, start: number, length: number): bigint | undefined {
  const end = start + length;
  let i = start;
  while (i < end && isSpace(page[i])) i++;
  if (i === end) return undefined;
  let negative = false;
  if (page[i] === 43 /* + */) i++;
  else if (page[i] === 45 /* - */) {
    negative = true;
    i++;
  }
  const first = i;
  while (i < end && page[i] >= 48 && page[i] <= 57) i++;
  if (i === first) return undefined;
  if (i < end && !isSpace(page[i])) return undefined;
  let value: bigint;
  if (i - first <= 15) {
    let n = 0;
    for (let j = first; j < i; j++) n = n * 10 + (page[j] - 48);
    value = BigInt(n);
  } else {
    value = BigInt(String.fromCharCode(...page.subarray(first, i)));
    if (value > U64_MASK) return undefined;
  }
  if (negative) {
    value = (-value) & U64_MASK;
    if (value >= 1n << 63n) return undefined;
  }
  return value;
}
