/**
 * The store's counters, as memcached keeps them in items.c and slabs.c:
 * global ones, and one row per size class, summed for `stats` and shown by
 * class in `stats slabs` and `stats items`.
 *
 * @module
 */

/**
 * Each per-class counter's offset in its class's row, and the row's length
 * (`C_COUNT`). Modules copy what they use into module-local constants, as
 * with `ROW` in `_item_rows.ts`.
 */
export const COUNTER = Object.freeze({
  C_GET_HITS: 0,
  C_CMD_SET: 1,
  C_DELETE_HITS: 2,
  C_INCR_HITS: 3,
  C_DECR_HITS: 4,
  C_CAS_HITS: 5,
  C_CAS_BADVAL: 6,
  C_TOUCH_HITS: 7,
  C_EVICTED: 8,
  C_EVICTED_NONZERO: 9,
  C_EVICTED_TIME: 10,
  C_OUTOFMEMORY: 11,
  C_RECLAIMED: 12,
  C_EXPIRED_UNFETCHED: 13,
  C_EVICTED_UNFETCHED: 14,
  C_CRAWLER_RECLAIMED: 15,
  C_NUMBER: 16,
  C_MEM_REQUESTED: 17,
  C_COUNT: 18,
});

const { C_COUNT, C_NUMBER, C_MEM_REQUESTED } = COUNTER;

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

/** The counters themselves: global fields, and `byClass` rows of {@linkcode C_COUNT}. */
export class ItemStats {
  /** Per-class counters: class `c`'s row starts at `c * C_COUNT`. */
  readonly byClass: Float64Array;
  currItems = 0;
  totalItems = 0;
  bytes = 0;
  evictions = 0;
  reclaimed = 0;
  expiredUnfetched = 0;
  evictedUnfetched = 0;
  evictedNonzero = 0;
  getExpired = 0;
  getFlushed = 0;
  crawlerReclaimed = 0;
  slabsMoved = 0;
  rescues = 0;
  moveEvictions = 0;
  getMisses = 0;
  touchMisses = 0;
  deleteMisses = 0;
  incrMisses = 0;
  decrMisses = 0;
  casMisses = 0;

  /** Counters for classes 0 to `largest`. */
  constructor(largest: number) {
    this.byClass = new Float64Array((largest + 1) * C_COUNT);
  }

  /** `stats sizes`: items by size rounded up to 32 bytes, bucket `i` for `i * 32`; undefined while off. */
  sizes: Uint32Array | undefined;
  /** Items whose cas unique is below this were stored before `sizes` began and are left out. */
  sizesCasMin = 0;

  /** Counts an item of `size` bytes (by memcached's formula) with unique `cas` into class `cls`. */
  enter(cls: number, size: number, cas: number): void {
    const row = cls * C_COUNT;
    this.bytes += size;
    this.byClass[row + C_NUMBER]++;
    this.byClass[row + C_MEM_REQUESTED] += size;
    if (this.sizes !== undefined) this.#countSize(size, cas, 1);
  }

  /** Counts an item of `size` bytes with unique `cas` out of class `cls`. */
  leave(cls: number, size: number, cas: number): void {
    const row = cls * C_COUNT;
    this.bytes -= size;
    this.byClass[row + C_NUMBER]--;
    this.byClass[row + C_MEM_REQUESTED] -= size;
    if (this.sizes !== undefined) this.#countSize(size, cas, -1);
  }

  /**
   * Starts `stats sizes` for items up to `maxItemSize` bytes stored from now
   * on, as memcached's item_stats_sizes_init; `casMin` is the next unique.
   */
  trackSizes(maxItemSize: number, casMin: number): void {
    if (this.sizes !== undefined) return;
    this.sizes = new Uint32Array(Math.floor(maxItemSize / 32) + 1);
    this.sizesCasMin = casMin;
  }

  #countSize(size: number, cas: number, delta: number): void {
    const sizes = this.sizes!;
    if (cas < this.sizesCasMin) return;
    const bucket = Math.ceil(size / 32);
    // memcached's counters are unsigned ints: a removal it never counted wraps them.
    if (bucket < sizes.length) sizes[bucket] += delta;
  }

  /** One per-class counter summed over every class. */
  sum(counter: number): number {
    const s = this.byClass;
    let total = 0;
    for (let row = C_COUNT; row < s.length; row += C_COUNT) total += s[row + counter];
    return total;
  }

  /**
   * Zeroes the counters, as `stats reset`: everything but what describes
   * the store now (items, bytes).
   */
  reset(): void {
    this.totalItems = 0;
    this.evictions = 0;
    this.reclaimed = 0;
    this.expiredUnfetched = 0;
    this.evictedUnfetched = 0;
    this.evictedNonzero = 0;
    this.getExpired = 0;
    this.getFlushed = 0;
    this.crawlerReclaimed = 0;
    this.slabsMoved = 0;
    this.rescues = 0;
    this.moveEvictions = 0;
    this.getMisses = 0;
    this.touchMisses = 0;
    this.deleteMisses = 0;
    this.incrMisses = 0;
    this.decrMisses = 0;
    this.casMisses = 0;
    const s = this.byClass;
    for (let row = 0; row < s.length; row += C_COUNT) {
      for (let k = 0; k < C_COUNT; k++) {
        if (k !== C_NUMBER && k !== C_MEM_REQUESTED) s[row + k] = 0;
      }
    }
  }
}
