/**
 * The bytes every connection's unfinished data blocks may hold together. In
 * memcached a value being received already sits in its item, inside `-m`;
 * here it waits in the connection's read buffer, so this pool bounds those
 * buffers instead, and a set that finds it spent is refused as memcached
 * refuses one it cannot allocate.
 *
 * @module
 */

import type { DataBlockBudget } from "../protocol/request_parser.ts";

/** A fixed number of bytes lent to the parsers' unfinished data blocks. */
export class DataBlockPool implements DataBlockBudget {
  #free: number;
  #limit: number;

  /** A pool of `limit` bytes. */
  constructor(limit: number) {
    this.#limit = limit;
    this.#free = limit;
  }

  /** Bytes lent out now. */
  get held(): number {
    return this.#limit - this.#free;
  }

  /** Lends `bytes` when that many are free. */
  take(bytes: number): boolean {
    if (bytes > this.#free) return false;
    this.#free -= bytes;
    return true;
  }

  /** Takes back `bytes` lent before. */
  give(bytes: number): void {
    this.#free += bytes;
  }
}
