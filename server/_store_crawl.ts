/**
 * The store as memcached's LRU crawler sees it: each size class's live
 * items from the LRU's tail (`lru_crawler metadump`), and its expired or
 * flushed ones reclaimed at once (`lru_crawler crawl`).
 *
 * @module
 */

import { classAt, type ItemRows, ROW } from "./_item_rows.ts";
import { DEADNESS, type Lru } from "./_lru.ts";
import type { SlabAllocator } from "./_slab_allocator.ts";
import type { Clock } from "./clock.ts";

const { F_INFO, INFO_LINKED, STRIDE } = ROW;

/** Walks and reclaims a store's size classes for `lru_crawler`. */
export class StoreCrawl {
  #slab: SlabAllocator;
  #rows: ItemRows;
  #lru: Lru;
  #clock: Clock;

  /** The store's pages, rows and LRUs, and the clock that says what has expired. */
  constructor(slab: SlabAllocator, rows: ItemRows, lru: Lru, clock: Clock) {
    this.#slab = slab;
    this.#rows = rows;
    this.#lru = lru;
    this.#clock = clock;
  }

  /** Whether `slot` still holds a live item of class `cls`: a walk taken earlier may have gone stale. */
  live(slot: number, cls: number): boolean {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    return (meta[base + F_INFO] & INFO_LINKED) !== 0 && classAt(meta, base) === cls &&
      this.#lru.deadness(base, this.#clock.now()) === DEADNESS.LIVE;
  }

  /** The highest size class id: classes run from 1 to it. */
  get largestClass(): number {
    return this.#slab.largest;
  }

  /**
   * Calls `visit` with the slot of each live item of class `cls`, from its
   * LRU's tail to its head, as memcached's metadump crawler. Changes
   * nothing; `visit` reads the item through the store's `items`
   * and must not change the store.
   *
   * @param cls A size class, 1 to {@linkcode StoreCrawl.prototype.largestClass}.
   */
  walkClass(cls: number, visit: (slot: number) => void): void {
    this.#lru.walk(cls, this.#clock.now(), visit);
  }

  /**
   * Reclaims every expired or flushed item of class `cls` at once, as a pass
   * of memcached's LRU crawler (`lru_crawler crawl`).
   *
   * @param cls A size class, 1 to {@linkcode StoreCrawl.prototype.largestClass}.
   * @param limit The most items to look at from the LRU's tail; 0 for all.
   * @returns How many items it looked at and how many it reclaimed.
   */
  reclaimClass(cls: number, limit = 0): { checked: number; reclaimed: number } {
    return this.#lru.reclaimClass(cls, limit, this.#clock.now());
  }
}
