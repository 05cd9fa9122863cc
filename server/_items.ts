/**
 * Items above the LRU, as memcached's items.c gives them to its commands:
 * finding a live one (do_item_get, which reclaims a dead item it meets),
 * making a new one (do_item_alloc and do_item_link), making room for a
 * new value in place (item_replace), reading one by its slot, and the
 * counters as `stats`, `stats slabs` and `stats items` show them.
 *
 * @module
 */

import { itemSize } from "../protocol/limits.ts";
import type { HashIndex } from "./_hash_index.ts";
import { COUNTER, type ItemStats, type SlabClassStats, type StoreStats } from "./_item_stats.ts";
import { casAt, classAt, type ItemRows, ROW, setCas } from "./_item_rows.ts";
import { DEADNESS, type Lru } from "./_lru.ts";
import type { SlabAllocator } from "./_slab_allocator.ts";
import type { Clock } from "./clock.ts";
import type { ItemEvents, ItemView } from "./_types.ts";

// Module-local copies of the layout constants, which V8 folds into the code.
const {
  F_EXPTIME,
  F_FLAGS,
  F_INFO,
  F_OFFSET,
  F_PAGE,
  F_TIME,
  F_VLEN,
  INFO_FETCHED,
  INFO_KEY_BINARY,
  INFO_LINKED,
  INFO_STALE,
  INFO_TOKEN_SENT,
  STRIDE,
} = ROW;
const {
  C_CAS_BADVAL,
  C_CAS_HITS,
  C_CMD_SET,
  C_COUNT,
  C_CRAWLER_RECLAIMED,
  C_DECR_HITS,
  C_DELETE_HITS,
  C_EVICTED,
  C_EVICTED_NONZERO,
  C_EVICTED_TIME,
  C_EVICTED_UNFETCHED,
  C_EXPIRED_UNFETCHED,
  C_GET_HITS,
  C_INCR_HITS,
  C_MEM_REQUESTED,
  C_NUMBER,
  C_OUTOFMEMORY,
  C_RECLAIMED,
  C_TOUCH_HITS,
} = COUNTER;
const { FLUSHED, LIVE } = DEADNESS;

const CR = 13;
const LF = 10;

/** Every item, by slot: its life and its fields. */
export class Items implements ItemView {
  #rows: ItemRows;
  #index: HashIndex;
  #slab: SlabAllocator;
  #lru: Lru;
  #stats: ItemStats;
  #clock: Clock;
  #events: ItemEvents;

  /** Items over the store's parts, all empty; lookups are reported to `events`. */
  constructor(
    rows: ItemRows,
    index: HashIndex,
    slab: SlabAllocator,
    lru: Lru,
    stats: ItemStats,
    clock: Clock,
    events: ItemEvents,
  ) {
    this.#events = events;
    this.#rows = rows;
    this.#index = index;
    this.#slab = slab;
    this.#lru = lru;
    this.#stats = stats;
    this.#clock = clock;
  }

  flags(slot: number): number {
    return this.#rows.meta[slot * STRIDE + F_FLAGS] >>> 0;
  }

  casUnique(slot: number): number {
    return casAt(this.#rows.meta, slot * STRIDE);
  }

  valueLength(slot: number): number {
    return this.#rows.meta[slot * STRIDE + F_VLEN];
  }

  value(slot: number): Uint8Array {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const start = meta[base + F_OFFSET] + (meta[base + F_INFO] & 0xff);
    return this.#slab.pages[meta[base + F_PAGE]].subarray(start, start + meta[base + F_VLEN]);
  }

  key(slot: number): Uint8Array {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const start = meta[base + F_OFFSET];
    return this.#slab.pages[meta[base + F_PAGE]].subarray(
      start,
      start + (meta[base + F_INFO] & 0xff),
    );
  }

  exptime(slot: number): number {
    return this.#rows.meta[slot * STRIDE + F_EXPTIME] >>> 0;
  }

  lastAccess(slot: number): number {
    return this.#rows.meta[slot * STRIDE + F_TIME];
  }

  fetched(slot: number): boolean {
    return (this.#rows.meta[slot * STRIDE + F_INFO] & INFO_FETCHED) !== 0;
  }

  classId(slot: number): number {
    return classAt(this.#rows.meta, slot * STRIDE);
  }

  itemSize(slot: number): number {
    return this.#rows.size(slot * STRIDE);
  }

  stale(slot: number): boolean {
    return (this.#rows.meta[slot * STRIDE + F_INFO] & INFO_STALE) !== 0;
  }

  tokenSent(slot: number): boolean {
    return (this.#rows.meta[slot * STRIDE + F_INFO] & INFO_TOKEN_SENT) !== 0;
  }

  binaryKey(slot: number): boolean {
    return (this.#rows.meta[slot * STRIDE + F_INFO] & INFO_KEY_BINARY) !== 0;
  }

  /**
   * The size class of an item as memcached's slabs_clsid picks it: by the
   * item's whole size, the header its row stands for included.
   */
  classFor(keyLength: number, flags: number, valueLength: number): number {
    return this.#slab.classFor(itemSize(keyLength, flags, valueLength, this.#rows.useCas));
  }

  /** memcached's do_item_get: finds a live item, unlinking a dead one on the way. */
  lookup(key: Uint8Array, hash: number, now: number): number {
    const slot = this.#index.find(key, hash);
    const events = this.#events;
    if (slot < 0) {
      if (events.fetchers) events.itemGet(0, key, 0, 0);
      return -1;
    }
    const dead = this.#lru.deadness(slot * STRIDE, now);
    if (dead === LIVE) {
      if (events.fetchers) events.itemGet(1, key, this.valueLength(slot), this.classId(slot));
      return slot;
    }
    if (dead === FLUSHED) this.#stats.getFlushed++;
    else this.#stats.getExpired++;
    if (events.fetchers) events.itemGet(dead === FLUSHED ? 2 : 3, key, 0, 0);
    this.#lru.unlink(slot);
    return -1;
  }

  /** Marks an item fetched and used, counting a hit in the per-class `counter`. */
  hit(slot: number, now: number, counter: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    meta[base + F_INFO] |= INFO_FETCHED;
    this.#lru.bump(slot, now);
    this.#stats.byClass[classAt(meta, base) * C_COUNT + counter]++;
  }

  /**
   * A new item of class `cls` for a missing key, holding `value`, with a
   * fresh cas: its slot, or -1 when there is no memory.
   *
   * @param exptime On the relative clock.
   */
  insert(
    key: Uint8Array,
    value: Uint8Array,
    flags: number,
    exptime: number,
    cls: number,
    hash: number,
    now: number,
  ): number {
    const rows = this.#rows;
    const slot = rows.allocate();
    if (!this.#lru.allocChunk(cls, slot, -1, now)) {
      rows.release(slot);
      return -1;
    }
    const slab = this.#slab;
    const page = slab.pages[slab.allocPage];
    const offset = slab.allocOffset;
    const klen = key.length;
    const vlen = value.length;
    page.set(key, offset);
    page.set(value, offset + klen);
    page[offset + klen + vlen] = CR;
    page[offset + klen + vlen + 1] = LF;
    const meta = rows.meta;
    const base = slot * STRIDE;
    meta[base + F_FLAGS] = flags;
    meta[base + F_EXPTIME] = exptime;
    meta[base + F_TIME] = now;
    setCas(meta, base, rows.nextCas());
    meta[base + F_VLEN] = vlen;
    meta[base + F_PAGE] = slab.allocPage;
    meta[base + F_OFFSET] = offset;
    meta[base + F_INFO] = klen | (cls << 8) | INFO_LINKED;
    this.#lru.link(slot, cls, hash);
    return slot;
  }

  /**
   * Makes a linked item's chunk fit a value of `vlen` bytes: the same chunk
   * if its class still fits, else a new chunk holding the key and the first
   * `keep` bytes of the old value (the old chunk is freed). Takes the item
   * out of its LRU and the counters until {@linkcode Items.prototype.replaced}.
   *
   * @returns Whether there was memory for it.
   */
  reserve(slot: number, vlen: number, keep: number, now: number): boolean {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const cls = this.classFor(meta[base + F_INFO] & 0xff, meta[base + F_FLAGS], vlen);
    return this.#reserveIn(slot, cls, keep, now);
  }

  /** {@linkcode Items.prototype.reserve} with the new class already known. */
  #reserveIn(slot: number, cls: number, keep: number, now: number): boolean {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const klen = meta[base + F_INFO] & 0xff;
    const oldCls = classAt(meta, base);
    // A chunk a write is reading is never rewritten: the new value takes another.
    const stays = cls === oldCls && !this.#slab.pinned(meta[base + F_PAGE], meta[base + F_OFFSET]);
    if (!stays && !this.#move(slot, cls, klen + keep, now)) return false;
    this.#lru.remove(slot, oldCls);
    this.#stats.leave(oldCls, this.#rows.size(base), casAt(meta, base));
    meta[base + F_INFO] = klen | (cls << 8) | INFO_LINKED;
    return true;
  }

  /** Moves an item's first `length` bytes to a new chunk of class `cls`, freeing the old one. */
  #move(slot: number, cls: number, length: number, now: number): boolean {
    if (!this.#lru.allocChunk(cls, slot, slot, now)) return false;
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const slab = this.#slab;
    // The old chunk may have moved while memory was found.
    const oldPage = meta[base + F_PAGE];
    const oldOffset = meta[base + F_OFFSET];
    slab.pages[slab.allocPage].set(
      slab.pages[oldPage].subarray(oldOffset, oldOffset + length),
      slab.allocOffset,
    );
    slab.free(oldPage, oldOffset);
    meta[base + F_PAGE] = slab.allocPage;
    meta[base + F_OFFSET] = slab.allocOffset;
    return true;
  }

  /**
   * Completes a {@linkcode Items.prototype.reserve} once the value of
   * `vlen` bytes and its CRLF are written, as memcached's item_replace: a
   * new cas, a fresh access time, not fetched.
   */
  replaced(slot: number, vlen: number, now: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const cls = classAt(meta, base);
    meta[base + F_VLEN] = vlen;
    meta[base + F_TIME] = now;
    meta[base + F_INFO] &= ~INFO_FETCHED;
    setCas(meta, base, this.#rows.nextCas());
    this.#lru.push(slot, cls);
    this.#stats.enter(cls, this.#rows.size(base), casAt(meta, base));
    this.#stats.totalItems++;
  }

  /**
   * Replaces a linked item's value, flags and exptime, as a storage command
   * over an existing key: {@linkcode Items.prototype.reserve}, the writes,
   * then {@linkcode Items.prototype.replaced}, in one call.
   *
   * @param exptime On the relative clock.
   * @returns Whether there was memory for the new value.
   */
  rewrite(slot: number, value: Uint8Array, flags: number, exptime: number, now: number): boolean {
    const vlen = value.length;
    const base = slot * STRIDE;
    // The new flags may change the item's size, and so its class.
    const cls = this.classFor(this.#rows.meta[base + F_INFO] & 0xff, flags, vlen);
    if (!this.#reserveIn(slot, cls, 0, now)) return false;
    const meta = this.#rows.meta;
    const page = this.#slab.pages[meta[base + F_PAGE]];
    const start = meta[base + F_OFFSET] + (meta[base + F_INFO] & 0xff);
    page.set(value, start);
    page[start + vlen] = CR;
    page[start + vlen + 1] = LF;
    meta[base + F_FLAGS] = flags;
    meta[base + F_EXPTIME] = exptime;
    this.replaced(slot, vlen, now);
    return true;
  }

  /** The page holding the item's bytes: its key at `valueStart - keyLength`, then the value. */
  page(slot: number): Uint8Array {
    return this.#slab.pages[this.#rows.meta[slot * STRIDE + F_PAGE]];
  }

  /** Where the item's value starts in its page. */
  valueStart(slot: number): number {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    return meta[base + F_OFFSET] + (meta[base + F_INFO] & 0xff);
  }

  /** The global counters for `stats`. */
  stats(): StoreStats {
    const s = this.#stats;
    return {
      currItems: s.currItems,
      totalItems: s.totalItems,
      bytes: s.bytes,
      evictions: s.evictions,
      reclaimed: s.reclaimed,
      expiredUnfetched: s.expiredUnfetched,
      evictedUnfetched: s.evictedUnfetched,
      evictedNonzero: s.evictedNonzero,
      getExpired: s.getExpired,
      getFlushed: s.getFlushed,
      crawlerReclaimed: s.crawlerReclaimed,
      limitMaxbytes: this.#slab.maxBytes,
      totalMalloced: this.#slab.memBytes,
      slabsMoved: s.slabsMoved,
      slabReassignRescues: s.rescues,
      slabReassignEvictionsNomem: s.moveEvictions,
      hashPowerLevel: this.#index.power,
      hashBytes: this.#index.bytes,
      oldestLive: this.#lru.oldestLive,
      getHits: s.sum(C_GET_HITS),
      getMisses: s.getMisses,
      touchHits: s.sum(C_TOUCH_HITS),
      touchMisses: s.touchMisses,
      deleteHits: s.sum(C_DELETE_HITS),
      deleteMisses: s.deleteMisses,
      incrHits: s.sum(C_INCR_HITS),
      incrMisses: s.incrMisses,
      decrHits: s.sum(C_DECR_HITS),
      decrMisses: s.decrMisses,
      casHits: s.sum(C_CAS_HITS),
      casMisses: s.casMisses,
      casBadval: s.sum(C_CAS_BADVAL),
      cmdSet: s.sum(C_CMD_SET),
    };
  }

  /** Every size class, by id from 1, for `stats slabs` and `stats items`. */
  slabClasses(): SlabClassStats[] {
    const slab = this.#slab;
    const now = this.#clock.now();
    const s = this.#stats.byClass;
    const out: SlabClassStats[] = [];
    for (let c = 1; c <= slab.largest; c++) {
      const row = c * C_COUNT;
      const pages = slab.classPages[c];
      const total = pages * slab.perPage[c];
      const free = slab.freeChunks(c);
      const oldestTime = this.#lru.oldestTime(c);
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
        age: oldestTime < 0 ? 0 : now - oldestTime,
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
}
