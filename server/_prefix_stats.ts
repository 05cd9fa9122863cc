/**
 * Per-prefix counters for `stats detail`: memcached groups keys by the part
 * before the first delimiter (`:` unless `-D` names another) and counts gets,
 * hits, sets and deletes of each group while `stats detail on` is in force.
 *
 * @module
 */

import type { WriteBuffer } from "../protocol/write_buffer.ts";
import { hashKey } from "./_hash_index.ts";

/** memcached's PREFIX_HASH_SIZE: its dump walks these buckets in order. */
const BUCKETS = 256;
/** memcached keeps every prefix it sees; this many bound the memory a client can make it use. */
const MAX_PREFIXES = 65536;

interface Counts {
  prefix: string;
  get: number;
  hit: number;
  set: number;
  del: number;
}

/** The counters behind `stats detail dump`. */
export class PrefixStats {
  /** Whether counting is on (`stats detail on`). */
  enabled = false;
  /** Each bucket newest first, as memcached links a new prefix at its bucket's head. */
  #buckets: Counts[][] = Array.from({ length: BUCKETS }, () => []);
  #size = 0;
  #delimiter: number;

  /** Counters grouping keys by the part before `delimiter` (a byte; memcached's `-D`, `:` by default). */
  constructor(delimiter = 0x3a) {
    this.#delimiter = delimiter;
  }

  #counts(key: Uint8Array): Counts | undefined {
    let end = 0;
    // memcached's scan stops at a NUL as at the key's end: no delimiter, no prefix.
    while (end < key.length && key[end] !== this.#delimiter && key[end] !== 0) end++;
    if (end === key.length || key[end] === 0) return undefined;
    const bytes = key.subarray(0, end);
    const bucket = this.#buckets[hashKey(bytes) & (BUCKETS - 1)];
    const prefix = String.fromCharCode(...bytes);
    // memcached compares with strncmp over the new prefix's length, so a longer prefix it already holds matches.
    let counts = bucket.find((c) => c.prefix.startsWith(prefix));
    if (counts === undefined && this.#size < MAX_PREFIXES) {
      counts = { prefix, get: 0, hit: 0, set: 0, del: 0 };
      bucket.unshift(counts);
      this.#size++;
    }
    return counts;
  }

  /** Counts a get of `key`, a hit or not. */
  recordGet(key: Uint8Array, hit: boolean): void {
    const counts = this.#counts(key);
    if (counts === undefined) return;
    counts.get++;
    if (hit) counts.hit++;
  }

  /** Counts a storage command on `key`. */
  recordSet(key: Uint8Array): void {
    const counts = this.#counts(key);
    if (counts !== undefined) counts.set++;
  }

  /** Counts a delete of `key`. */
  recordDelete(key: Uint8Array): void {
    const counts = this.#counts(key);
    if (counts !== undefined) counts.del++;
  }

  /** Forgets every prefix, as memcached's `stats reset` does; counting stays on or off. */
  clear(): void {
    for (const bucket of this.#buckets) bucket.length = 0;
    this.#size = 0;
  }

  /** Writes memcached's `stats detail dump` reply. */
  dump(out: WriteBuffer): void {
    for (const bucket of this.#buckets) {
      for (const c of bucket) {
        out.latin1(`PREFIX ${c.prefix} get ${c.get} hit ${c.hit} set ${c.set} del ${c.del}\r\n`);
      }
    }
    out.latin1("END\r\n");
  }
}
