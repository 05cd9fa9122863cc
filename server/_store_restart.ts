/**
 * The store as `-e` (memcached's warm restart) sees it: its live items in
 * LRU order to save on a clean stop, and each put back at the next start
 * with its cas, times and marks, the cas counter continuing above them.
 *
 * @module
 */

import { hashKey } from "./_hash_index.ts";
import { type ItemRows, ROW, setCas } from "./_item_rows.ts";
import type { Items } from "./_items.ts";
import { DEADNESS, type Lru } from "./_lru.ts";
import type { RestoredItem } from "./_types.ts";
import type { Clock } from "./clock.ts";

// Module-local copies of the layout constants, which V8 folds into the code.
const { F_INFO, F_TIME, INFO_FETCHED, INFO_KEY_BINARY, INFO_STALE, INFO_TOKEN_SENT, STRIDE } = ROW;

/** Saves and restores a store's items for `-e`. */
export class StoreRestart {
  #rows: ItemRows;
  #lru: Lru;
  #items: Items;
  #clock: Clock;
  #discard: (key: Uint8Array) => void;

  /** The store's parts it reads and writes, and how the store drops a key (checking it first). */
  constructor(
    rows: ItemRows,
    lru: Lru,
    items: Items,
    clock: Clock,
    discard: (key: Uint8Array) => void,
  ) {
    this.#rows = rows;
    this.#lru = lru;
    this.#items = items;
    this.#clock = clock;
    this.#discard = discard;
  }

  /**
   * Every live item's slot, class by class, each class's least recently used
   * first: restoring them in this order rebuilds each LRU as it was.
   */
  *liveItems(): Generator<number> {
    const now = this.#clock.now();
    for (const slot of this.#lru.oldestFirst()) {
      if (this.#lru.deadness(slot * STRIDE, now) === DEADNESS.LIVE) yield slot;
    }
  }

  /** The last cas unique handed out; a restored store hands out larger ones. */
  get lastCas(): number {
    return this.#rows.lastCas;
  }

  /** Hands out cas uniques above `cas` from now on, as a restored store continues its count. */
  continueCasAfter(cas: number): void {
    this.#rows.raiseCas(cas);
  }

  /**
   * Puts a saved item back as it was: its cas, times and marks, at the head
   * of its LRU, replacing a live item of the same key.
   *
   * @returns Whether there was memory for it.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  restore(key: Uint8Array, value: Uint8Array, item: RestoredItem): boolean {
    this.#discard(key);
    const klen = key.length;
    const flags = item.flags >>> 0;
    const cls = this.#items.classFor(klen, flags, value.length);
    const now = this.#clock.now();
    const slot = this.#items.insert(key, value, flags, item.exptime, cls, hashKey(key), now);
    if (slot < 0) return false;
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    meta[base + F_TIME] = item.lastAccess;
    setCas(meta, base, this.#rows.useCas ? item.cas : 0);
    this.#rows.raiseCas(item.cas);
    meta[base + F_INFO] |= (item.fetched ? INFO_FETCHED : 0) | (item.stale ? INFO_STALE : 0) |
      (item.tokenSent ? INFO_TOKEN_SENT : 0) | (item.binaryKey ? INFO_KEY_BINARY : 0);
    return true;
  }
}
