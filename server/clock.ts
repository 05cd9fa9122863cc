/**
 * The server's notion of time, modelled on memcached's `current_time`: whole
 * seconds on a relative clock, so that expiry is an integer comparison and
 * tests can move time without sleeping.
 *
 * @module
 */

import { REALTIME_MAXDELTA } from "../protocol/limits.ts";

/**
 * Where the relative clock starts. memcached sets `process_started` to the
 * start time minus `ITEM_UPDATE_INTERVAL + 2` (62 s), so its `current_time`
 * starts at 62 and `stats uptime` (`current_time - 60`) starts at 2.
 */
export const CLOCK_START = 62;

/**
 * A source of memcached's relative time.
 *
 * @example Reading a clock
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Clock, ManualClock } from "@x/memcache/server";
 *
 * const clock: Clock = new ManualClock({ now: 100, started: 1_700_000_000 });
 * assert.equal(clock.unixTime(), 1_700_000_100);
 * ```
 */
export interface Clock {
  /** Unix time in whole seconds at which the relative clock reads 0 (memcached's `process_started`). */
  readonly started: number;
  /** Whole seconds on the relative clock (memcached's `current_time`). */
  now(): number;
  /** Unix time in whole seconds: `started + now()`. */
  unixTime(): number;
}

/**
 * The real clock. Relative time is taken from the monotonic clock, so a jump
 * of the wall clock moves neither expiry nor LRU ages, as in memcached.
 *
 * @example A clock for a server
 * ```ts
 * import assert from "node:assert/strict";
 * import { SystemClock } from "@x/memcache/server";
 *
 * const clock = new SystemClock();
 * assert.ok(clock.now() >= 62); // 62 right after start, like memcached
 * assert.equal(clock.unixTime(), clock.started + clock.now());
 * ```
 */
export class SystemClock implements Clock {
  readonly started: number;
  #origin: number;
  /** The reading shared by everything that runs before the next microtask; -1 when unread. */
  #reading = -1;
  #forget = () => {
    this.#reading = -1;
  };

  /** Starts the relative clock at {@linkcode CLOCK_START} seconds. */
  constructor() {
    const wall = Date.now() / 1000;
    this.started = Math.floor(wall) - CLOCK_START;
    // The monotonic reading that corresponds to relative time 0.
    this.#origin = performance.now() / 1000 - (wall - this.started);
  }

  /**
   * Whole seconds on the relative clock. One synchronous run (a batch of
   * requests, a multi-get of many keys) reads the clock once and sees one
   * time, as memcached's workers see one `current_time`.
   */
  now(): number {
    if (this.#reading < 0) {
      this.#reading = Math.floor(performance.now() / 1000 - this.#origin);
      queueMicrotask(this.#forget);
    }
    return this.#reading;
  }

  /** Unix time in whole seconds. */
  unixTime(): number {
    return this.started + this.now();
  }
}

/** Options for {@linkcode ManualClock}. */
export interface ManualClockOptions {
  /**
   * The relative time to start at.
   *
   * @default {62}
   */
  now?: number;
  /**
   * The Unix time (seconds) at which the relative clock reads 0.
   *
   * @default {1700000000}
   */
  started?: number;
}

/**
 * A clock that moves only when told, for tests.
 *
 * @example Expiring an item without sleeping
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "@x/memcache/server";
 *
 * const clock = new ManualClock();
 * clock.advance(10);
 * assert.equal(clock.now(), 72);
 * ```
 */
export class ManualClock implements Clock {
  readonly started: number;
  #now: number;

  /**
   * Creates a clock reading `options.now`.
   *
   * @param options Where the clock starts.
   * @throws {RangeError} If `now` or `started` is not a non-negative integer.
   */
  constructor(options?: ManualClockOptions) {
    const { now = CLOCK_START, started = 1_700_000_000 } = options ?? {};
    if (!Number.isSafeInteger(now) || now < 0) {
      throw new RangeError(`Cannot create the clock: now "${now}" is not a non-negative integer`);
    }
    if (!Number.isSafeInteger(started) || started < 0) {
      throw new RangeError(
        `Cannot create the clock: started "${started}" is not a non-negative integer`,
      );
    }
    this.#now = now;
    this.started = started;
  }

  /** Whole seconds on the relative clock. */
  now(): number {
    return this.#now;
  }

  /** Unix time in whole seconds. */
  unixTime(): number {
    return this.started + this.#now;
  }

  /**
   * Moves the clock forward.
   *
   * @param seconds Whole seconds to add.
   * @throws {RangeError} If `seconds` is not a non-negative integer.
   */
  advance(seconds: number): void {
    if (!Number.isSafeInteger(seconds) || seconds < 0) {
      throw new RangeError(
        `Cannot advance the clock: seconds "${seconds}" is not a non-negative integer`,
      );
    }
    this.#now += seconds;
  }
}

/**
 * Converts an exptime as sent on the wire to a time on the relative clock,
 * exactly as memcached's `realtime(EXPTIME_TO_POSITIVE_TIME(exptime))`:
 * 0 stays 0 (never expires); a negative exptime gives 1 (already expired);
 * up to {@linkcode REALTIME_MAXDELTA} is relative to now; anything larger is
 * an absolute Unix time, and one at or before the clock's start gives 1.
 * An item is expired when its relative exptime is non-zero and `<= now()`.
 * With the clock at 100 and started at 1,700,000,000: 10 gives 110, -1
 * gives 1, and 1,700,000,500 gives 500.
 *
 * @param exptime The exptime from the request, a signed 32-bit integer.
 * @param clock The clock to convert against.
 * @returns The relative exptime, an unsigned 32-bit integer.
 */
export function relativeExptime(exptime: number, clock: Clock): number {
  if (exptime === 0) return 0;
  // memcached maps a negative exptime to an absolute time before the process
  // started, which realtime() turns into 1.
  if (exptime < 0) return 1;
  if (exptime > REALTIME_MAXDELTA) {
    if (exptime <= clock.started) return 1;
    return (exptime - clock.started) >>> 0;
  }
  return (exptime + clock.now()) >>> 0;
}
