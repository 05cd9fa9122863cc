/**
 * Single gets read ahead together: the connections whose reads complete in
 * the same event-loop turn each bring one key, and the store reads all their
 * index entries in stages before any of them is answered.
 *
 * @module
 */

import type { Store } from "./_store.ts";

/** The most keys one turn prefetches: three cache lines each, well inside a core's L1 and L2. */
const MAX_TURN_KEYS = 128;

/**
 * One turn of the event loop's reads, shared by the connections: each whose
 * read brought a single get adds its key and waits; once every connection
 * whose read completed in the same turn has had its say, the store touches
 * all their keys' buckets, rows and key bytes in stages, so the cache misses
 * of one connection's lookup overlap the others' instead of following them.
 */
export class PrefetchTurn {
  #store: Store;
  #keys: Uint8Array[] = [];
  #done: Promise<void> | undefined;
  #release!: () => void;

  /** A turn over `store`, which reads the keys ahead. */
  constructor(store: Store) {
    this.#store = store;
  }

  /** Adds a key to this turn; resolves once the turn's keys were read ahead. */
  join(key: Uint8Array): Promise<void> {
    // More keys than the caches hold at once would evict the first ones again.
    if (this.#keys.length < MAX_TURN_KEYS) this.#keys.push(key);
    if (this.#done === undefined) {
      this.#done = new Promise((resolve) => this.#release = resolve);
      // Queued behind the other connections' read continuations of this turn.
      queueMicrotask(this.#run);
    }
    return this.#done;
  }

  #run = (): void => {
    const keys = this.#keys;
    for (let i = 0; i < keys.length;) i += this.#store.prefetch(keys, i);
    keys.length = 0;
    this.#done = undefined;
    this.#release();
  };
}
