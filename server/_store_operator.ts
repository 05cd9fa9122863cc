/**
 * The operator's commands on the store's memory, beside the command rules:
 * `cache_memlimit` (a new limit, evicting down to it), `slabs reassign`
 * (a page from one size class to another) and `stats sizes` (the item size
 * histogram), as memcached 1.6.18 answers them.
 *
 * @module
 */

import type { ItemRows } from "./_item_rows.ts";
import type { ItemStats } from "./_item_stats.ts";
import type { Lru } from "./_lru.ts";
import type { SlabAllocator } from "./_slab_allocator.ts";
import type { Clock } from "./clock.ts";

/** The levers `cache_memlimit`, `slabs reassign` and `stats sizes` pull on a store. */
export class StoreOperator {
  #slab: SlabAllocator;
  #lru: Lru;
  #stats: ItemStats;
  #rows: ItemRows;
  #clock: Clock;
  #maxItemSize: number;

  /** The store's parts it works on, and the item size limit `stats sizes` buckets up to. */
  constructor(
    slab: SlabAllocator,
    lru: Lru,
    stats: ItemStats,
    rows: ItemRows,
    clock: Clock,
    limits: { maxItemSize: number },
  ) {
    this.#slab = slab;
    this.#lru = lru;
    this.#stats = stats;
    this.#rows = rows;
    this.#clock = clock;
    this.#maxItemSize = limits.maxItemSize;
  }

  /**
   * Changes the memory limit live, as `cache_memlimit`: pages beyond the
   * new limit are emptied, their items evicted, and given back.
   *
   * @param maxBytes The new limit in bytes.
   */
  setMemoryLimit(maxBytes: number): void {
    this.#slab.maxBytes = maxBytes;
    this.#lru.shrink(this.#clock.now());
  }

  /**
   * Moves a page between size classes, as `slabs reassign`, with
   * memcached's answer: `src` -1 picks any class with a spare page, `dst`
   * 0 is the global pool, whose memory is given back above the limit. A
   * page a write is reading from is not moved.
   *
   * @returns memcached's reply word.
   */
  reassignPage(src: number, dst: number): "OK" | "SAME" | "BADCLASS" | "NOSPARE" | "BUSY" {
    if (src === dst) return "SAME";
    const slab = this.#slab;
    const pages = slab.classPages;
    if (src === -1) {
      // memcached's slabs_reassign_pick_any: the first class other than dst with two pages.
      for (let c = 1; c <= slab.largest && src === -1; c++) if (c !== dst && pages[c] > 1) src = c;
    }
    if (src < 0 || src > slab.largest || dst < 0 || dst > slab.largest) return "BADCLASS";
    // The global pool (class 0) is never a source here: its pages are freed at once.
    if (src === 0 || pages[src] < 2) return "NOSPARE";
    // Every page of the class holds a value a write is reading: memcached's mover would wait too.
    if (slab.firstPage(src) < 0) return "BUSY";
    this.#lru.reassign(src, dst, this.#clock.now());
    return "OK";
  }

  /** Whether `stats sizes` is counting (`stats settings` `track_sizes`). */
  get sizesTracked(): boolean {
    return this.#stats.sizes !== undefined;
  }

  /**
   * Starts or stops `stats sizes`, as `stats sizes_enable` and
   * `stats sizes_disable`. Starting counts the items stored from then on.
   *
   * @returns False when it cannot start because cas is off, as memcached refuses.
   */
  trackSizes(on: boolean): boolean {
    const stats = this.#stats;
    if (!on) stats.sizes = undefined;
    else if (!this.#rows.useCas) return false;
    // memcached takes the next unique as its threshold, so enabling uses one up.
    else if (stats.sizes === undefined) stats.trackSizes(this.#maxItemSize, this.#rows.nextCas());
    return true;
  }

  /** `stats sizes`: [size rounded up to 32, items] for every non-empty bucket, or undefined while off. */
  sizes(): [number, number][] | undefined {
    const sizes = this.#stats.sizes;
    if (sizes === undefined) return undefined;
    const out: [number, number][] = [];
    sizes.forEach((n, i) => {
      if (n !== 0) out.push([i * 32, n]);
    });
    return out;
  }
}
