/**
 * The numbers `stats conns`, `-vv` and `watch connevents` give connections,
 * as memcached's file descriptors run: its own descriptors first (7, and 4
 * for each worker thread), then one per listener, then each client takes the
 * lowest number free, so a closed client's number goes to the next one.
 *
 * @module
 */

/** The first listener's number in memcached 1.6.18 with `threads` workers. */
export function firstListenerFd(threads: number): number {
  return 7 + 4 * threads;
}

/** Hands out the lowest free number from a first one on. */
export class FdNumbers {
  #next: number;
  /** Numbers given back, highest first, so the lowest is popped. */
  #free: number[] = [];

  /** Numbers from `first` on. */
  constructor(first: number) {
    this.#next = first;
  }

  /** The lowest free number. */
  take(): number {
    return this.#free.pop() ?? this.#next++;
  }

  /** Frees a number taken before. */
  give(n: number): void {
    const free = this.#free;
    let i = free.length;
    while (i > 0 && free[i - 1] < n) i--;
    free.splice(i, 0, n);
  }
}
