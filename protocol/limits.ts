/**
 * memcached's limits, as its text protocol enforces them.
 *
 * @module
 */

/** The longest key memcached accepts, in bytes. */
export const KEY_MAX_LENGTH = 250;

/**
 * memcached closes a connection whose buffered input holds more than this
 * many bytes with no newline, unless the line is a `get`/`gets` key list.
 */
export const LINE_MAX_LENGTH = 2048;

/** memcached's default item size limit (`-I 1m`). */
export const ITEM_SIZE_MAX = 1024 * 1024;

/** memcached stops splitting a command line into tokens after this many. */
export const MAX_TOKENS = 24;

/** An exptime above this many seconds (30 days) is an absolute Unix time. */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

/** The size of memcached 1.6's item header on a 64-bit machine. */
const ITEM_HEADER_SIZE = 48;

/**
 * The size memcached gives an item, the number its `-I` limit is checked
 * against: header, cas, key and its terminator, flags when non-zero, and the
 * value with its CRLF.
 *
 * @param keyLength The key's length in bytes.
 * @param flags The item's client flags.
 * @param valueLength The value's length in bytes, without its CRLF.
 * @param useCas Whether cas is on (memcached's `-C` turns it off).
 * @returns The item's size in bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ITEM_SIZE_MAX, itemSize } from "@x/memcache/protocol";
 *
 * assert.equal(itemSize(1, 0, 1048516, true), ITEM_SIZE_MAX);
 * ```
 */
export function itemSize(
  keyLength: number,
  flags: number,
  valueLength: number,
  useCas: boolean,
): number {
  return ITEM_HEADER_SIZE + (useCas ? 8 : 0) + keyLength + 1 + (flags === 0 ? 0 : 4) +
    valueLength + 2;
}
