/**
 * Per-prefix counters for `stats detail`: memcached groups keys by the part
 * before the first `:` and counts gets, hits, sets and deletes of each group
 * while `stats detail on` is in force.
 *
 * @module
 */

import type { WriteBuffer } from "../protocol/write_buffer.ts";

const DELIMITER = 0x3a;
/** memcached keeps every prefix it sees; this many bound the memory a client can make it use. */
const MAX_PREFIXES = 65536;

interface Counts {
  get: number;
  hit: number;
  set: number;
  del: number;
}

/** The counters behind `stats detail dump`. */
export class PrefixStats {
  /** Whether counting is on (`stats detail on`). */
  enabled = false;
  #prefixes = new Map<string, Counts>();

  #counts(key: Uint8Array): Counts | undefined {
    const end = key.indexOf(DELIMITER);
    if (end < 0) return undefined;
    const prefix = String.fromCharCode(...key.subarray(0, end));
    let counts = this.#prefixes.get(prefix);
    if (counts === undefined && this.#prefixes.size < MAX_PREFIXES) {
      counts = { get: 0, hit: 0, set: 0, del: 0 };
      this.#prefixes.set(prefix, counts);
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

  /** Writes memcached's `stats detail dump` reply. */
  dump(out: WriteBuffer): void {
    for (const [prefix, c] of this.#prefixes) {
      out.latin1(`PREFIX ${prefix} get ${c.get} hit ${c.hit} set ${c.set} del ${c.del}\r\n`);
    }
    out.latin1("END\r\n");
  }
}
