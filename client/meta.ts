/**
 * The options and results of the client's meta calls (`mg ms md ma`), with
 * memcached's one-letter flags given names for what they do.
 *
 * @module
 */

import type { CallOptions } from "./options.ts";

/** Options of {@linkcode Client.metaGet}: what to return, and how to change the item. */
export interface MetaGetOptions extends CallOptions {
  /**
   * Return the value (`v`), decoded by its client flags as `get` decodes it.
   *
   * @default {true}
   */
  value?: boolean;
  /**
   * Return the cas token (`c`).
   *
   * @default {false}
   */
  cas?: boolean;
  /**
   * Return the client flags (`f`); they come back anyway with the value.
   *
   * @default {false}
   */
  clientFlags?: boolean;
  /**
   * Return the seconds the item has left (`t`), -1 when it never expires.
   *
   * @default {false}
   */
  ttl?: boolean;
  /**
   * Return the size of the value in bytes (`s`).
   *
   * @default {false}
   */
  size?: boolean;
  /**
   * Return whether the item was fetched before this call (`h`).
   *
   * @default {false}
   */
  hit?: boolean;
  /**
   * Return the seconds since the item was last accessed, before this call (`l`).
   *
   * @default {false}
   */
  lastAccess?: boolean;
  /**
   * Leave the item where it is in the LRU, its hit and access time untouched (`u`).
   *
   * @default {false}
   */
  noLruBump?: boolean;
  /**
   * On a hit, set the item's expiry to this many seconds (`T`), as `touch` does.
   *
   * @default {undefined}
   */
  touch?: number;
  /**
   * On a miss, create an empty placeholder that lives this many seconds
   * (`N`) and make this caller the winner ({@linkcode MetaGetResult.win}):
   * later callers see {@linkcode MetaGetResult.alreadyWon} until it is
   * replaced.
   *
   * @default {undefined}
   */
  vivifyOnMiss?: number;
  /**
   * Make this caller the winner when the item has fewer than this many
   * seconds left (`R`), so one caller refreshes it before it expires.
   *
   * @default {undefined}
   */
  recacheBelow?: number;
  /**
   * A token of up to 32 bytes echoed back in the reply (`O`).
   *
   * @default {undefined}
   */
  opaque?: string;
}

/** What {@linkcode Client.metaGet} found: the fields asked for, and the recache hints. */
export interface MetaGetResult<T> {
  /** The value, when asked for. */
  value?: T;
  /** The cas token, when asked for. */
  cas?: bigint;
  /** The client flags, when asked for or with the value. */
  clientFlags?: number;
  /** Seconds left, -1 for never, when asked for. */
  ttl?: number;
  /** The value's size in bytes, when asked for. */
  size?: number;
  /** Whether the item had been fetched before, when asked for. */
  hit?: boolean;
  /** Seconds since the last access, when asked for. */
  lastAccess?: number;
  /** The opaque token, when one was sent. */
  opaque?: string;
  /**
   * This caller won the right to recache the item (`W`): it was missing
   * and vivified, going stale, or invalidated.
   */
  win: boolean;
  /** The item was invalidated by {@linkcode Client.metaDelete} and should be recached (`X`). */
  stale: boolean;
  /** Another caller already won the right to recache the item (`Z`). */
  alreadyWon: boolean;
}

/** Options of {@linkcode Client.metaSet}. */
export interface MetaSetOptions extends CallOptions {
  /**
   * How to store: `"set"` always, `"add"` only if absent, `"replace"` only if
   * present, `"append"`/`"prepend"` to a present value (bytes or text only;
   * the stored flags stay).
   *
   * @default {"set"}
   */
  mode?: "set" | "add" | "replace" | "append" | "prepend";
  /**
   * Expiry (`T`): 0 never, up to 30 days in seconds, else a Unix time.
   *
   * @default {0}
   */
  ttl?: number;
  /**
   * Store only if the item's cas token is this one (`C`).
   *
   * @default {undefined}
   */
  cas?: bigint;
  /**
   * With `cas`: also store when the given token is older than the item's,
   * but mark the item stale, so the next reader recaches it (`I`).
   *
   * @default {false}
   */
  invalidate?: boolean;
  /**
   * Return the new cas token (`c`).
   *
   * @default {false}
   */
  returnCas?: boolean;
  /**
   * Overrides the client's `minCompressLen` for this value.
   *
   * @default {the client's}
   */
  minCompressLen?: number;
  /**
   * A token of up to 32 bytes echoed back in the reply (`O`).
   *
   * @default {undefined}
   */
  opaque?: string;
}

/** What {@linkcode Client.metaSet} did. */
export interface MetaSetResult {
  /** Whether the value was stored. */
  stored: boolean;
  /**
   * `"STORED"`; `"NOT_STORED"` when the mode's condition failed; `"EXISTS"`
   * when the cas token did not match; `"NOT_FOUND"` when a cas was given and
   * the key is absent.
   */
  status: "STORED" | "NOT_STORED" | "EXISTS" | "NOT_FOUND";
  /** The new cas token, when asked for and stored. */
  cas?: bigint;
  /** The opaque token, when one was sent. */
  opaque?: string;
}

/** Options of {@linkcode Client.metaDelete}. */
export interface MetaDeleteOptions extends CallOptions {
  /**
   * Delete only if the item's cas token is this one (`C`).
   *
   * @default {undefined}
   */
  cas?: bigint;
  /**
   * Keep the item but mark it stale and give it a new cas token (`I`): the
   * next `metaGet` wins the right to recache it while others may still
   * read the old value.
   *
   * @default {false}
   */
  invalidate?: boolean;
  /**
   * With `invalidate`: the seconds the stale item may still live (`T`).
   *
   * @default {undefined}
   */
  ttl?: number;
  /**
   * A token of up to 32 bytes echoed back in the reply (`O`).
   *
   * @default {undefined}
   */
  opaque?: string;
}

/** What {@linkcode Client.metaDelete} did. */
export interface MetaDeleteResult {
  /** Whether the item was deleted (or, with `invalidate`, marked stale). */
  deleted: boolean;
  /** `"DELETED"`; `"NOT_FOUND"`; `"EXISTS"` when the cas token did not match. */
  status: "DELETED" | "NOT_FOUND" | "EXISTS";
  /** The opaque token, when one was sent. */
  opaque?: string;
}

/** Options of {@linkcode Client.metaArithmetic}. */
export interface MetaArithmeticOptions extends CallOptions {
  /**
   * `"increment"` (wrapping at 2^64) or `"decrement"` (stopping at 0).
   *
   * @default {"increment"}
   */
  mode?: "increment" | "decrement";
  /**
   * What to add or subtract (`D`), up to 2^64 - 1.
   *
   * @default {1}
   */
  delta?: number | bigint;
  /**
   * On a miss, create the counter with `initial` and this expiry in
   * seconds (`N`); 0 never expires.
   *
   * @default {undefined}
   */
  vivifyOnMiss?: number;
  /**
   * The value a counter created by `vivifyOnMiss` starts at (`J`); it is
   * returned as is, without the delta.
   *
   * @default {0}
   */
  initial?: number | bigint;
  /**
   * On success, set the expiry to this many seconds (`T`).
   *
   * @default {undefined}
   */
  ttl?: number;
  /**
   * Change the counter only if its cas token is this one (`C`).
   *
   * @default {undefined}
   */
  cas?: bigint;
  /**
   * Return the new cas token (`c`).
   *
   * @default {false}
   */
  returnCas?: boolean;
  /**
   * Return the seconds the counter has left (`t`), -1 for never.
   *
   * @default {false}
   */
  returnTtl?: boolean;
  /**
   * A token of up to 32 bytes echoed back in the reply (`O`).
   *
   * @default {undefined}
   */
  opaque?: string;
}

/** What {@linkcode Client.metaArithmetic} did. */
export interface MetaArithmeticResult {
  /**
   * `"STORED"` with the new value; `"NOT_FOUND"` when the key is absent;
   * `"NOT_STORED"` when `vivifyOnMiss` could not create it; `"EXISTS"` when
   * the cas token did not match.
   */
  status: "STORED" | "NOT_FOUND" | "NOT_STORED" | "EXISTS";
  /** The new value (a number when a safe integer, else a bigint), when stored. */
  value?: number | bigint;
  /** The new cas token, when asked for. */
  cas?: bigint;
  /** Seconds left, -1 for never, when asked for. */
  ttl?: number;
  /** The opaque token, when one was sent. */
  opaque?: string;
}

/** Options of {@linkcode Client.getOrSet}. */
export interface GetOrSetOptions extends CallOptions {
  /**
   * How long a loaded value is fresh, in seconds; 0 keeps it forever (and
   * allows no `staleTtl`).
   */
  ttl: number;
  /**
   * How long past `ttl` the old value is still served while the one caller
   * that won reloads it. The item is stored for `ttl + staleTtl` seconds and
   * fetched with `recacheBelow: staleTtl`. 0 serves nothing stale: callers
   * that find the key missing wait for the one that loads it.
   *
   * @default {0}
   */
  staleTtl?: number;
  /**
   * How long, in seconds, the placeholder that marks a missing key as being
   * loaded lives: if the winner dies or its loader is slower, another
   * caller wins after this.
   *
   * @default {10}
   */
  lockTtl?: number;
  /**
   * How long, in seconds (fractions allowed), a caller that found the key
   * being loaded by another polls for the value before giving up with
   * `TimeoutError`.
   *
   * @default {lockTtl + 2}
   */
  maxWait?: number;
  /**
   * Overrides the client's `minCompressLen` for the loaded value.
   *
   * @default {the client's}
   */
  minCompressLen?: number;
}
