/**
 * Item rows, as memcached's item header: each item's metadata (flags,
 * exptime, access time, cas, value length, where its bytes lie, its LRU and
 * hash chain links) in one `Int32Array` row per slot. The key and value bytes
 * live in slab pages; a slot number is an item's handle everywhere in the store.
 *
 * @module
 */

import { itemSize } from "../protocol/limits.ts";

/**
 * The row layout: each field's offset in a row, the row's length, and the
 * bits of its INFO field. A module copies what it uses into module-local
 * constants (`const { F_INFO, STRIDE } = ROW;`): V8 folds those into the
 * code, where it reloads an imported binding on every use.
 */
export const ROW = Object.freeze({
  F_FLAGS: 0,
  /** Relative, unsigned. */
  F_EXPTIME: 1,
  /** Last access, relative. */
  F_TIME: 2,
  F_CAS_LO: 3,
  F_CAS_HI: 4,
  F_VLEN: 5,
  F_PAGE: 6,
  F_OFFSET: 7,
  /** Towards the LRU head (newer). */
  F_PREV: 8,
  /** Towards the LRU tail (older); the free-slot link when free. */
  F_NEXT: 9,
  F_HNEXT: 10,
  F_HASH: 11,
  /** Key length | class << 8 | the INFO_ bits. */
  F_INFO: 12,
  /** Fields per row. */
  STRIDE: 13,
  INFO_LINKED: 1 << 16,
  INFO_FETCHED: 1 << 17,
  // Meta protocol marks (memcached's ITEM_STALE, ITEM_TOKEN_SENT, ITEM_KEY_BINARY).
  INFO_STALE: 1 << 18,
  INFO_TOKEN_SENT: 1 << 19,
  INFO_KEY_BINARY: 1 << 20,
  /** Used since it last reached its LRU's tail (memcached's ITEM_ACTIVE): spared once there. */
  INFO_ACTIVE: 1 << 21,
});

/**
 * Bytes of each item's chunk held beside its page rather than in it:
 * memcached's item header (48 bytes, and 8 of cas when cas is on), which
 * every item's size counts. They pay for the item's row (52 bytes) and its
 * chunk's owner entry (4 bytes); with cas off, 8 bytes an item lie beyond `-m`.
 *
 * @param useCas Whether items get cas uniques.
 * @returns The bytes of each chunk that are not held in its page.
 */
export function rowHeaderBytes(useCas: boolean): number {
  return 48 + (useCas ? 8 : 0);
}

/** The most bytes of rows allocated at once; past them the rows grow by doubling. */
const RESERVE_LIMIT = 256 * 1024 * 1024;

const { F_FLAGS, F_CAS_LO, F_CAS_HI, F_VLEN, F_NEXT, F_INFO, STRIDE } = ROW;

const TWO_32 = 4294967296;

/** The rows and their slots: a free list of released slots, then a high-water mark. */
export class ItemRows {
  /** STRIDE fields per slot; replaced by a larger array when slots run out. */
  meta: Int32Array;
  /** Whether items get cas uniques (memcached's `-C` turns them off). */
  readonly useCas: boolean;
  #count = 0;
  #free = -1;
  #casId = 0;

  /**
   * Creates rows for items with or without cas uniques.
   *
   * @param useCas Whether items get cas uniques.
   * @param maxItems The most items the memory limit lets live at once.
   */
  constructor(useCas: boolean, maxItems = 1024) {
    this.useCas = useCas;
    // Rows never touched cost address space, not memory; reserving all the
    // limit allows means no copy, which would hold old and new rows at once.
    const slots = Math.max(1024, Math.min(maxItems + 1, RESERVE_LIMIT / (STRIDE * 4)));
    this.meta = new Int32Array(Math.floor(slots) * STRIDE);
  }

  /** A free slot; `meta` may be a new array afterwards. */
  allocate(): number {
    const slot = this.#free;
    if (slot >= 0) {
      this.#free = this.meta[slot * STRIDE + F_NEXT];
      return slot;
    }
    if ((this.#count + 1) * STRIDE > this.meta.length) {
      const grown = new Int32Array(this.meta.length * 2);
      grown.set(this.meta);
      this.meta = grown;
    }
    return this.#count++;
  }

  /** Gives a slot back, marking it unlinked. */
  release(slot: number): void {
    const base = slot * STRIDE;
    this.meta[base + F_INFO] = 0;
    this.meta[base + F_NEXT] = this.#free;
    this.#free = slot;
  }

  /** The next cas unique: a counter shared by all items, 0 when cas is off. */
  nextCas(): number {
    return this.useCas ? ++this.#casId : 0;
  }

  /** The last cas unique handed out. */
  get lastCas(): number {
    return this.#casId;
  }

  /** Makes the next cas unique larger than `cas`, as a restored item's must stay unique. */
  raiseCas(cas: number): void {
    if (this.useCas && cas > this.#casId) this.#casId = cas;
  }

  /** The item's size by memcached's formula, as counted in `bytes`. */
  size(base: number): number {
    const meta = this.meta;
    return itemSize(
      meta[base + F_INFO] & 0xff,
      meta[base + F_FLAGS],
      meta[base + F_VLEN],
      this.useCas,
    );
  }
}

/** The size class of the item whose row starts at `base`. */
export function classAt(meta: Int32Array, base: number): number {
  return (meta[base + F_INFO] >> 8) & 0xff;
}

/**
 * The cas unique of the row at `base`. Exact as a number: it would take
 * centuries at a million changes a second to pass 2^53.
 */
export function casAt(meta: Int32Array, base: number): number {
  return (meta[base + F_CAS_HI] >>> 0) * TWO_32 + (meta[base + F_CAS_LO] >>> 0);
}

/** Sets the cas unique of the row at `base`. */
export function setCas(meta: Int32Array, base: number, cas: number): void {
  meta[base + F_CAS_LO] = cas >>> 0;
  meta[base + F_CAS_HI] = Math.floor(cas / TWO_32);
}
