/**
 * The key index, as memcached's assoc.c: a chained hash table over item
 * slots. Buckets hold a chain's first slot and each row links to the next, so
 * a lookup hashes the key bytes and makes no string. It grows past 1.5 items
 * per bucket, as memcached's does.
 *
 * @module
 */

import { type ItemRows, ROW } from "./_item_rows.ts";

// Module-local copies of the layout constants, which V8 folds into the code.
const { F_HASH, F_HNEXT, F_INFO, F_OFFSET, F_PAGE, STRIDE } = ROW;

/** The most keys {@linkcode HashIndex.prototype.prefetch} reads ahead at once. */
export const PREFETCH_BATCH = 32;
/** memcached's largest hash power. */
const MAX_POWER = 30;

/** Slot → hash chain over the rows; key bytes are compared in the slab pages. */
export class HashIndex {
  #rows: ItemRows;
  #pages: Uint8Array[];
  #buckets: Int32Array;
  #power: number;
  #mask: number;
  #count = 0;
  /** Where prefetch keeps each key's first slot, page and offset. */
  #ahead = new Int32Array(3 * PREFETCH_BATCH);
  /** Receives the bytes prefetch reads, so that the reads are not optimised away. */
  #sink = 0;

  /**
   * An empty index of `2^power` buckets.
   *
   * @param rows The item rows the chains run through.
   * @param pages The slab pages holding the keys (the allocator's array, which grows in place).
   * @param power log2 of the initial bucket count (memcached's `hashpower`).
   */
  constructor(rows: ItemRows, pages: Uint8Array[], power: number) {
    this.#rows = rows;
    this.#pages = pages;
    this.#power = power;
    this.#mask = (1 << power) - 1;
    this.#buckets = new Int32Array(1 << power).fill(-1);
  }

  /** log2 of the bucket count (`hash_power_level`). */
  get power(): number {
    return this.#power;
  }

  /** Bytes of the bucket array (`hash_bytes`). */
  get bytes(): number {
    return this.#buckets.byteLength;
  }

  /** The slot holding `key`, whose {@linkcode hashKey} is `hash`, or -1. */
  find(key: Uint8Array, hash: number): number {
    const meta = this.#rows.meta;
    const klen = key.length;
    let slot = this.#buckets[hash & this.#mask];
    while (slot >= 0) {
      const base = slot * STRIDE;
      if (meta[base + F_HASH] === hash && (meta[base + F_INFO] & 0xff) === klen) {
        const page = this.#pages[meta[base + F_PAGE]];
        const start = meta[base + F_OFFSET];
        let i = 0;
        while (i < klen && page[start + i] === key[i]) i++;
        if (i === klen) return slot;
      }
      slot = meta[base + F_HNEXT];
    }
    return -1;
  }

  /** Adds a slot whose key is not in the index yet. */
  insert(slot: number, hash: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const bucket = hash & this.#mask;
    meta[base + F_HASH] = hash;
    meta[base + F_HNEXT] = this.#buckets[bucket];
    this.#buckets[bucket] = slot;
    if (++this.#count > (this.#mask + 1) * 1.5 && this.#power < MAX_POWER) this.#grow();
  }

  /** Removes a slot that is in the index. */
  remove(slot: number): void {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const bucket = meta[base + F_HASH] & this.#mask;
    let s = this.#buckets[bucket];
    if (s === slot) {
      this.#buckets[bucket] = meta[base + F_HNEXT];
    } else {
      while (meta[s * STRIDE + F_HNEXT] !== slot) s = meta[s * STRIDE + F_HNEXT];
      meta[s * STRIDE + F_HNEXT] = meta[base + F_HNEXT];
    }
    this.#count--;
  }

  /**
   * Reads, ahead of a multi-get, the bucket, row and first key bytes of up to
   * {@linkcode PREFETCH_BATCH} keys from `from`, one stage for all keys before
   * the next, so their cache misses overlap instead of following each other.
   * Changes nothing.
   *
   * @param keys The keys about to be looked up.
   * @param from The first of them to read.
   * @returns How many keys it read ahead.
   */
  prefetch(keys: readonly Uint8Array[], from: number): number {
    const count = Math.min(keys.length - from, PREFETCH_BATCH);
    const ahead = this.#ahead;
    const buckets = this.#buckets;
    const mask = this.#mask;
    const meta = this.#rows.meta;
    const pages = this.#pages;
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

  #grow(): void {
    const meta = this.#rows.meta;
    const old = this.#buckets;
    this.#power++;
    this.#mask = (1 << this.#power) - 1;
    const buckets = new Int32Array(1 << this.#power).fill(-1);
    for (let b = 0; b < old.length; b++) {
      let slot = old[b];
      while (slot >= 0) {
        const base = slot * STRIDE;
        const next = meta[base + F_HNEXT];
        const bucket = meta[base + F_HASH] & this.#mask;
        meta[base + F_HNEXT] = buckets[bucket];
        buckets[bucket] = slot;
        slot = next;
      }
    }
    this.#buckets = buckets;
  }
}

/** MurmurHash3 (x86, 32-bit) of the key bytes, as an int32. */
export function hashKey(key: Uint8Array): number {
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
