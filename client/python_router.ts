import { crc32 } from "./_hash.ts";
import type { Router, ServerSpec } from "./router.ts";

/** Options for {@linkcode PythonRouter}. */
export interface PythonRouterOptions {
  /**
   * Reproduce python-memcached up to 1.59, whose server hash turns 0 into 1
   * (`... & 0x7fff) or 1`). Debian 12's python3-memcache (1.59, reporting
   * `__version__ = "1.58"`) still does; 1.60 and later hash 0 to 0, like
   * libmemcached's crc32 hash. The two differ for about one key in 32768 and
   * in the rehash chain that follows it.
   *
   * @default {false}
   */
  legacyZeroHash?: boolean;
}

const RETRIES = 10;

/**
 * Places keys exactly as python-memcached's `Client._get_server` does, so
 * that this client and python programs share one set of servers.
 *
 * The hash is `(crc32(key) >>> 16) & 0x7fff` (IEEE CRC-32 of the key bytes).
 * Each server fills `weight` buckets, in list order, and a key goes to bucket
 * `hash % buckets`. When that server is dead, python-memcached rehashes the
 * decimal text of the hash followed by the attempt number (`"3187" + "0"`),
 * and gives up after 10 picks: so does this router, returning -1.
 *
 * @example Route keys over three weighted servers, as Debian 12's python3-memcache does
 * ```ts
 * import assert from "node:assert/strict";
 * import { PythonRouter, type PythonRouterOptions } from "@x/memcache/client";
 *
 * const options: PythonRouterOptions = { legacyZeroHash: true }; // python-memcached 1.59
 * const router = new PythonRouter([
 *   { host: "10.0.0.1", port: 11211, weight: 1 },
 *   { host: "10.0.0.2", port: 11211, weight: 2 },
 *   { host: "10.0.0.3", port: 11211, weight: 3 },
 * ], options);
 * const key = new TextEncoder().encode("foo");
 * assert.equal(router.pick(key, () => true), 1);
 * assert.equal(router.pick(key, (i) => i !== 1), 2); // rehashed past the dead server
 * ```
 */
export class PythonRouter implements Router {
  /** Cumulative weights: server i owns buckets [ends[i - 1], ends[i]). */
  #ends: Float64Array;
  #buckets: number;
  #legacyZeroHash: boolean;
  /** ASCII of a rehash input: at most 5 digits of the hash and 1 of the attempt. */
  #digits = new Uint8Array(8);

  /**
   * Builds the bucket list from the servers.
   *
   * @param servers The servers, in the order python-memcached is given them;
   *   `weight` is how many buckets each fills. Host and port do not matter.
   * @param options See {@linkcode PythonRouterOptions}.
   * @throws {RangeError} When the list is empty or a weight is not a positive
   *   integer.
   */
  constructor(servers: readonly ServerSpec[], options?: PythonRouterOptions) {
    if (servers.length === 0) throw new RangeError("Cannot route keys: the server list is empty");
    this.#ends = new Float64Array(servers.length);
    let total = 0;
    servers.forEach((server, i) => {
      if (!Number.isSafeInteger(server.weight) || server.weight < 1) {
        throw new RangeError(
          `Cannot route keys: server ${i} has weight ${server.weight}, expected a positive integer`,
        );
      }
      total += server.weight;
      this.#ends[i] = total;
    });
    if (!Number.isSafeInteger(total)) {
      throw new RangeError(`Cannot route keys: the total weight ${total} is too large`);
    }
    this.#buckets = total;
    this.#legacyZeroHash = options?.legacyZeroHash ?? false;
  }

  /**
   * Chooses the server for a key, rehashing past dead servers as
   * python-memcached does.
   *
   * @param key The key's bytes (python-memcached hashes the UTF-8 of a `str`).
   * @param alive Whether the server at an index may be used now.
   * @returns The index of the server, or -1 when 10 picks found only dead
   *   servers.
   */
  pick(key: Uint8Array, alive: (index: number) => boolean): number {
    // One server: every hash and rehash lands on it.
    if (this.#ends.length === 1) return alive(0) ? 0 : -1;
    let hash = this.#hash(key, key.length);
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const server = this.#serverOf(hash % this.#buckets);
      if (alive(server)) return server;
      // python: serverHashFunction((str(serverhash) + str(i)).encode("ascii"))
      const digits = this.#digits;
      const count = hash < 10 ? 1 : hash < 100 ? 2 : hash < 1000 ? 3 : hash < 10000 ? 4 : 5;
      for (let i = count - 1, rest = hash; i >= 0; i--, rest = (rest / 10) | 0) {
        digits[i] = 0x30 + (rest % 10);
      }
      digits[count] = 0x30 + attempt;
      hash = this.#hash(digits, count + 1);
    }
    return -1;
  }

  #hash(bytes: Uint8Array, length: number): number {
    const hash = (crc32(bytes, 0, length) >>> 16) & 0x7fff;
    return hash === 0 && this.#legacyZeroHash ? 1 : hash;
  }

  /** The server owning a bucket: the first whose cumulative weight passes it. */
  #serverOf(bucket: number): number {
    const ends = this.#ends;
    let low = 0, high = ends.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (ends[middle] > bucket) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
