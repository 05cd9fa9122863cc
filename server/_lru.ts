/**
 * Item life and eviction, as memcached's items.c: linking an item into the
 * index, its class's LRU and the counters, and unlinking it; which items are
 * dead (expired, or older than a `flush_all`); finding a chunk for a new
 * item by reclaiming or evicting at the LRU's tail, or by taking a page from
 * another class; and the sweep that reclaims dead items without a read, as
 * memcached's LRU crawler.
 *
 * One LRU per class: a hit marks an item active instead of relinking it, and
 * an active item that reaches the tail moves to the head once (memcached
 * moves it to its WARM LRU) instead of being evicted.
 *
 * @module
 */

import type { HashIndex } from "./_hash_index.ts";
import { COUNTER, type ItemStats } from "./_item_stats.ts";
import { casAt, classAt, type ItemRows, ROW } from "./_item_rows.ts";
import type { SlabAllocator } from "./_slab_allocator.ts";
import type { ItemEvents } from "./_types.ts";

// Module-local copies of the layout constants, which V8 folds into the code.
const {
  F_EXPTIME,
  F_INFO,
  F_NEXT,
  F_OFFSET,
  F_PAGE,
  F_PREV,
  F_TIME,
  F_VLEN,
  INFO_ACTIVE,
  INFO_FETCHED,
  STRIDE,
} = ROW;
const {
  C_COUNT,
  C_CRAWLER_RECLAIMED,
  C_EVICTED,
  C_EVICTED_NONZERO,
  C_EVICTED_TIME,
  C_EVICTED_UNFETCHED,
  C_EXPIRED_UNFETCHED,
  C_OUTOFMEMORY,
  C_RECLAIMED,
} = COUNTER;

/**
 * What {@linkcode Lru.prototype.deadness} finds: a live item, one stored or
 * last accessed before a `flush_all` took effect, or one past its exptime.
 */
export const DEADNESS = Object.freeze({ LIVE: 0, FLUSHED: 1, EXPIRED: 2 });

const { LIVE, FLUSHED, EXPIRED } = DEADNESS;

/** The most active items one eviction moves from the tail to the head before taking one anyway. */
const MAX_SECOND_CHANCES = 50;

/** The per-class LRU lists, and every change that links, unlinks or evicts an item. */
export class Lru {
  #rows: ItemRows;
  #index: HashIndex;
  #slab: SlabAllocator;
  #stats: ItemStats;
  #evict: boolean;
  #events: ItemEvents;
  #heads: Int32Array;
  #tails: Int32Array;
  /** The sweep's position per class, -1 to start at the tail. */
  #cursors: Int32Array;
  #sweepClass = 1;
  #oldestLive = 0;
  #oldestCas = 0;

  /**
   * Empty lists for each of the allocator's classes.
   *
   * @param evict Whether a full class evicts (false is memcached's `-M`).
   */
  constructor(
    rows: ItemRows,
    index: HashIndex,
    slab: SlabAllocator,
    stats: ItemStats,
    evict: boolean,
    events: ItemEvents,
  ) {
    this.#events = events;
    this.#rows = rows;
    this.#index = index;
    this.#slab = slab;
    this.#stats = stats;
    this.#evict = evict;
    const classes = slab.largest + 1;
    this.#heads = new Int32Array(classes).fill(-1);
    this.#tails = new Int32Array(classes).fill(-1);
    this.#cursors = new Int32Array(classes).fill(-1);
  }

  /** The flush point on the relative clock, 0 for none (`stats settings` `oldest`). */
  get oldestLive(): number {
    return this.#oldestLive;
  }

  /** The last access time of class `cls`'s least recently used item, -1 when it has none. */
  oldestTime(cls: number): number {
    const tail = this.#tails[cls];
    return tail < 0 ? -1 : this.#rows.meta[tail * STRIDE + F_TIME];
  }

  /**
   * Makes items last accessed at or before `oldest` dead, as `flush_all`.
   * With cas on, items of `oldest`'s very second are told apart by their
   * cas: those older than the flush are flushed too.
   */
  flush(oldest: number, now: number): void {
    if (this.#rows.useCas) {
      this.#oldestLive = oldest - 1;
      if (this.#oldestLive <= now) this.#oldestCas = this.#rows.nextCas();
    } else {
      this.#oldestLive = oldest;
    }
  }

  /** LIVE, or why the item at `base` must not be returned (memcached's flush check first). */
  deadness(base: number, now: number): number {
    const meta = this.#rows.meta;
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

  /**
   * Stamps an item's access time and marks it active. As memcached, a hit
   * does not relink the item, which would read both its neighbours' rows.
   */
  bump(slot: number, now: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    meta[base + F_TIME] = now;
    meta[base + F_INFO] |= INFO_ACTIVE;
  }

  /** Every linked slot, class by class, each class's least recently used first. */
  *oldestFirst(): Generator<number> {
    const meta = this.#rows.meta;
    for (let cls = 0; cls < this.#tails.length; cls++) {
      for (let slot = this.#tails[cls]; slot >= 0; slot = meta[slot * STRIDE + F_PREV]) yield slot;
    }
  }

  /** Puts a slot at the head of class `cls`'s list. */
  push(slot: number, cls: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const head = this.#heads[cls];
    meta[base + F_PREV] = -1;
    meta[base + F_NEXT] = head;
    if (head >= 0) meta[head * STRIDE + F_PREV] = slot;
    else this.#tails[cls] = slot;
    this.#heads[cls] = slot;
  }

  /** Takes a slot out of class `cls`'s list. */
  remove(slot: number, cls: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const prev = meta[base + F_PREV];
    const next = meta[base + F_NEXT];
    if (this.#cursors[cls] === slot) this.#cursors[cls] = prev;
    if (prev >= 0) meta[prev * STRIDE + F_NEXT] = next;
    else this.#heads[cls] = next;
    if (next >= 0) meta[next * STRIDE + F_PREV] = prev;
    else this.#tails[cls] = prev;
  }

  /** Links a new item into the index, the head of its LRU and the counters. */
  link(slot: number, cls: number, hash: number): void {
    const stats = this.#stats;
    this.push(slot, cls);
    const base = slot * STRIDE;
    stats.enter(cls, this.#rows.size(base), casAt(this.#rows.meta, base));
    stats.currItems++;
    stats.totalItems++;
    this.#index.insert(slot, hash);
  }

  /** Removes an item from the index, its LRU and its chunk, and frees its slot. */
  unlink(slot: number): void {
    const meta = this.#rows.meta;
    const stats = this.#stats;
    const base = slot * STRIDE;
    const cls = classAt(meta, base);
    this.#index.remove(slot);
    this.remove(slot, cls);
    stats.leave(cls, this.#rows.size(base), casAt(meta, base));
    stats.currItems--;
    this.#slab.free(meta[base + F_PAGE], meta[base + F_OFFSET]);
    this.#rows.release(slot);
  }

  /**
   * Finds a chunk of class `cls` for `owner`, as memcached's
   * do_item_alloc_pull: a free chunk or new page; else expired items at the
   * LRU tail, then the tail itself (unless evictions are off); else a page
   * taken from another class. `protect` is never evicted. On success the
   * chunk is the allocator's `allocPage` and `allocOffset`.
   */
  allocChunk(cls: number, owner: number, protect: number, now: number): boolean {
    const slab = this.#slab;
    if (slab.alloc(cls, owner)) return true;
    const meta = this.#rows.meta;
    const row = cls * C_COUNT;
    const stats = this.#stats;
    const counts = stats.byClass;
    // An empty page elsewhere costs nothing to take; prefer it to an eviction.
    if (slab.emptyPages > 0 && this.#movePage(cls, protect, true, now) && slab.alloc(cls, owner)) {
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
        this.deadness(base, now) === LIVE
      ) {
        // Used since it was last here: to the head, and that was not a try.
        chances--;
        tries++;
        meta[base + F_INFO] = info & ~INFO_ACTIVE;
        this.remove(slot, cls);
        this.push(slot, cls);
        slot = prev;
        continue;
      }
      const unfetched = (meta[base + F_INFO] & INFO_FETCHED) === 0;
      if (this.deadness(base, now) !== LIVE) {
        stats.reclaimed++;
        counts[row + C_RECLAIMED]++;
        if (unfetched) {
          stats.expiredUnfetched++;
          counts[row + C_EXPIRED_UNFETCHED]++;
        }
        this.unlink(slot);
        if (slab.alloc(cls, owner)) return true;
        slot = prev;
        continue;
      }
      if (!this.#evict) break;
      this.#countEviction(base, row, now);
      this.unlink(slot);
      if (slab.alloc(cls, owner)) return true;
      break;
    }
    // The class has nothing it may give up: take pages from other classes.
    while (this.#movePage(cls, protect, false, now)) {
      if (slab.alloc(cls, owner)) return true;
    }
    counts[row + C_OUTOFMEMORY]++;
    return false;
  }

  /**
   * Reclaims expired and flushed items without a read, walking each class's
   * LRU from the tail; it resumes where the last call stopped.
   *
   * @param maxItems The most items to look at in this call.
   * @param now The relative time.
   * @returns How many items were reclaimed.
   */
  sweep(maxItems: number, now: number): number {
    const largest = this.#slab.largest;
    const meta = this.#rows.meta;
    let budget = maxItems;
    let reclaimed = 0;
    for (let i = 0; i < largest && budget > 0; i++) {
      const cls = this.#sweepClass;
      let slot = this.#cursors[cls];
      if (slot < 0) slot = this.#tails[cls];
      while (slot >= 0 && budget > 0) {
        budget--;
        const prev = meta[slot * STRIDE + F_PREV];
        if (this.#reclaimDead(slot, cls, now)) reclaimed++;
        slot = prev;
      }
      this.#cursors[cls] = slot;
      if (slot < 0) this.#sweepClass = cls === largest ? 1 : cls + 1;
    }
    return reclaimed;
  }

  /** Tells the watchers of evictions about the item at `base`, as logger.c's eviction entry. */
  #reportEviction(base: number, now: number): void {
    const meta = this.#rows.meta;
    const start = meta[base + F_OFFSET];
    const key = this.#slab.pages[meta[base + F_PAGE]].subarray(
      start,
      start + (meta[base + F_INFO] & 0xff),
    );
    const exptime = meta[base + F_EXPTIME] >>> 0;
    this.#events.eviction(
      key,
      (meta[base + F_INFO] & INFO_FETCHED) !== 0,
      exptime > 0 ? exptime - now : -1,
      now - meta[base + F_TIME],
      classAt(meta, base),
      meta[base + F_VLEN],
    );
  }

  /**
   * Calls `visit` with each live item of class `cls`, from the LRU's tail to
   * its head, as memcached's metadump crawler walks a class; dead items are
   * passed over and left for reclaiming. `visit` must not change the store.
   */
  walk(cls: number, now: number, visit: (slot: number) => void): void {
    const meta = this.#rows.meta;
    for (let slot = this.#tails[cls]; slot >= 0; slot = meta[slot * STRIDE + F_PREV]) {
      if (this.deadness(slot * STRIDE, now) === LIVE) visit(slot);
    }
  }

  /**
   * Reclaims every expired or flushed item of class `cls`, as memcached's
   * expiry crawler (`lru_crawler crawl`) does in one pass over a class,
   * looking at `limit` items from the tail (0: all of them).
   *
   * @returns How many items it looked at and how many it reclaimed.
   */
  reclaimClass(cls: number, limit: number, now: number): { checked: number; reclaimed: number } {
    const meta = this.#rows.meta;
    let checked = 0;
    let reclaimed = 0;
    for (let slot = this.#tails[cls]; slot >= 0 && (limit === 0 || checked < limit);) {
      const prev = meta[slot * STRIDE + F_PREV];
      checked++;
      if (this.#reclaimDead(slot, cls, now)) reclaimed++;
      slot = prev;
    }
    return { checked, reclaimed };
  }

  /** Reclaims the item in `slot` of class `cls` if it is dead, counting it as the crawler's. */
  #reclaimDead(slot: number, cls: number, now: number): boolean {
    const meta = this.#rows.meta;
    const stats = this.#stats;
    const base = slot * STRIDE;
    if (this.deadness(base, now) === LIVE) return false;
    const row = cls * C_COUNT;
    stats.reclaimed++;
    stats.crawlerReclaimed++;
    stats.byClass[row + C_RECLAIMED]++;
    stats.byClass[row + C_CRAWLER_RECLAIMED]++;
    if ((meta[base + F_INFO] & INFO_FETCHED) === 0) {
      stats.expiredUnfetched++;
      stats.byClass[row + C_EXPIRED_UNFETCHED]++;
    }
    this.unlink(slot);
    return true;
  }

  #countEviction(base: number, row: number, now: number): void {
    if (this.#events.evictions) this.#reportEviction(base, now);
    const meta = this.#rows.meta;
    const stats = this.#stats;
    const counts = stats.byClass;
    stats.evictions++;
    counts[row + C_EVICTED]++;
    counts[row + C_EVICTED_TIME] = now - meta[base + F_TIME];
    if (meta[base + F_EXPTIME] !== 0) {
      stats.evictedNonzero++;
      counts[row + C_EVICTED_NONZERO]++;
    }
    if ((meta[base + F_INFO] & INFO_FETCHED) === 0) {
      stats.evictedUnfetched++;
      counts[row + C_EVICTED_UNFETCHED]++;
    }
  }

  /**
   * Empties one page of another class into the global pool, where the next
   * new page comes from. An empty page goes first; else, when `emptyOnly`
   * is false, the page with the fewest items in the class with the oldest
   * LRU tail, whose items move to free chunks of their class or, if
   * evictions are on, are evicted. A page holding `protect` is never taken.
   */
  #movePage(cls: number, protect: number, emptyOnly: boolean, now: number): boolean {
    const slab = this.#slab;
    const meta = this.#rows.meta;
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
          // A page a write is reading stays where it is, as memcached's mover skips referenced items.
          if (slab.pageClass[p] !== from || p === protectPage || slab.pinnedPage(p)) continue;
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
    this.#emptyPage(victim, now);
    return true;
  }

  /**
   * `slabs reassign`: moves class `src`'s first page to class `dst`, or to
   * the global pool when `dst` is 0, its items rescued into free chunks of
   * their class or evicted, as memcached's page mover does.
   */
  reassign(src: number, dst: number, now: number): void {
    const slab = this.#slab;
    this.#emptyPage(slab.firstPage(src), now);
    if (dst > 0) slab.grantPage(dst);
    else slab.releasePool();
  }

  /**
   * Empties pages into the pool and frees them until the pages handed out
   * are within the limit again, after `cache_memlimit` lowered it.
   */
  shrink(now: number): void {
    const slab = this.#slab;
    slab.releasePool();
    while (slab.memBytes > slab.maxBytes && this.#movePage(0, -1, false, now)) slab.releasePool();
  }

  /** Empties page `victim` into the global pool: its items move to free chunks of their class, or are evicted. */
  #emptyPage(victim: number, now: number): void {
    const slab = this.#slab;
    const meta = this.#rows.meta;
    const from = slab.detachPage(victim);
    const owners = slab.owners[victim];
    const carved = slab.pageCarved[victim];
    const size = slab.stride[from];
    const source = slab.pages[victim];
    // memcached fills a page from its end and its mover walks from the start: newest items go first.
    for (let i = carved - 1; i >= 0; i--) {
      const slot = owners[i];
      if (slot < 0) continue;
      const base = slot * STRIDE;
      if (this.deadness(base, now) !== LIVE) {
        // memcached's mover drops an expired or flushed item uncounted.
        this.unlink(slot);
      } else if (slab.alloc(from, slot, false)) {
        const length = (meta[base + F_INFO] & 0xff) + meta[base + F_VLEN] + 2;
        const start = i * size;
        slab.pages[slab.allocPage].set(source.subarray(start, start + length), slab.allocOffset);
        meta[base + F_PAGE] = slab.allocPage;
        meta[base + F_OFFSET] = slab.allocOffset;
        slab.free(victim, start);
        this.#stats.rescues++;
        // memcached relinks a rescued copy as a new item, which total_items counts.
        this.#stats.totalItems++;
      } else {
        // Counted as slab_reassign_evictions_nomem only, not as evictions, as memcached does.
        this.#stats.moveEvictions++;
        this.unlink(slot);
      }
    }
    slab.poolPage(victim);
    this.#stats.slabsMoved++;
  }
}
