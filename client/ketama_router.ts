import { md5Words } from "./_hash.ts";
import type { Router, ServerSpec } from "./router.ts";

/** Options for {@linkcode KetamaRouter}. */
export interface KetamaRouterOptions {
  /**
   * What happens to a key whose server is dead:
   *
   * - `"rebuild"`: what libmemcached does with auto-eject (pylibmc
   *   `remove_failed`): the continuum is rebuilt over the live servers only,
   *   with each share recomputed from the live total weight, so a few keys
   *   also move between live servers. (libmemcached decides on its own when
   *   a server is ejected and when it returns; here `alive` decides.)
   * - `"next"`: the continuum stays; the key takes the next point, clockwise,
   *   whose server is alive. Keys of live servers never move.
   * - `"none"`: no failover, libmemcached's default: the key gets -1.
   *
   * @default {"rebuild"}
   */
  failover?: "rebuild" | "next" | "none";
}

/** libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA; each MD5 digest gives 4 points. */
const POINTS_PER_SERVER = 160;
const DEFAULT_PORT = 11211;
/** Server indexes are packed into 20 bits beside a 32-bit point while sorting. */
const MAX_SERVERS = 0x100000;

/** Points sorted ascending, and the server each belongs to. */
interface Continuum {
  points: Uint32Array;
  owners: Uint32Array;
}

/**
 * libmemcached's weighted ketama consistent hashing, as pylibmc uses it with
 * `behaviors={"ketama_weighted": True}` and servers given as
 * `"host:port:weight"`, so this client and those programs share servers.
 *
 * Server i gets `floor(weight / totalWeight * 40 * servers + 1e-10)` MD5
 * digests (in float32 arithmetic, as libmemcached computes it) of the label
 * `host:port-j` (`host-j` on port 11211), j = 0, 1, ...; each digest gives 4
 * points, its four little-endian 32-bit words. A key's point is the first
 * little-endian word of its MD5, and it goes to the first point at or after
 * it, wrapping around.
 *
 * @example Route keys over three weighted servers, keeping them put when one dies
 * ```ts
 * import assert from "node:assert/strict";
 * import { KetamaRouter, type KetamaRouterOptions } from "@x/memcache/client";
 *
 * const options: KetamaRouterOptions = { failover: "next" };
 * const router = new KetamaRouter([
 *   { host: "10.0.0.1", port: 11211, weight: 1 },
 *   { host: "10.0.0.2", port: 11211, weight: 2 },
 *   { host: "10.0.0.3", port: 11211, weight: 1 },
 * ], options);
 * const key = new TextEncoder().encode("user:42");
 * const index = router.pick(key, () => true);
 * assert.ok(index >= 0 && index < 3);
 * assert.notEqual(router.pick(key, (i) => i !== index), index);
 * ```
 */
export class KetamaRouter implements Router {
  #servers: readonly ServerSpec[];
  #failover: "rebuild" | "next" | "none";
  #full: Continuum;
  #digest = new Uint32Array(4);
  /** The last rebuilt continuum and the liveness it was built for. */
  #rebuiltFor = new Uint8Array(0);
  #rebuilt: Continuum | undefined;
  #liveness: Uint8Array;

  /**
   * Builds the continuum of all the servers.
   *
   * @param servers The servers, in the order pylibmc is given them. `host` is
   *   hashed as written (an IPv6 address without brackets, as pylibmc passes
   *   it on).
   * @param options See {@linkcode KetamaRouterOptions}.
   * @throws {RangeError} When the list is empty or longer than 2^20, a weight
   *   is not an integer from 1 to 2^32 - 1, a port is not an integer from 0 to
   *   65535, or `failover` is not one of its values.
   */
  constructor(servers: readonly ServerSpec[], options?: KetamaRouterOptions) {
    if (servers.length === 0) throw new RangeError("Cannot route keys: the server list is empty");
    if (servers.length > MAX_SERVERS) {
      throw new RangeError(
        `Cannot route keys: ${servers.length} servers is more than ${MAX_SERVERS}`,
      );
    }
    servers.forEach((server, i) => {
      if (!Number.isInteger(server.weight) || server.weight < 1 || server.weight > 0xffffffff) {
        throw new RangeError(
          `Cannot route keys: server ${i} has weight ${server.weight}, expected an integer from 1 to 4294967295`,
        );
      }
      if (!Number.isInteger(server.port) || server.port < 0 || server.port > 0xffff) {
        throw new RangeError(
          `Cannot route keys: server ${i} has port ${server.port}, expected an integer from 0 to 65535`,
        );
      }
    });
    const failover = options?.failover ?? "rebuild";
    if (failover !== "rebuild" && failover !== "next" && failover !== "none") {
      throw new RangeError(
        `Cannot route keys: failover "${failover}" is not "rebuild", "next" or "none"`,
      );
    }
    this.#servers = servers.map(({ host, port, weight }) => ({ host, port, weight }));
    this.#failover = failover;
    this.#liveness = new Uint8Array(servers.length).fill(1);
    this.#full = this.#build(this.#liveness);
  }

  /**
   * Chooses the server for a key.
   *
   * @param key The key's bytes (pylibmc hashes the UTF-8 of a `str`).
   * @param alive Whether the server at an index may be used now. With
   *   `failover: "rebuild"` every server is asked on every call, since a dead
   *   server changes the shares of the others.
   * @returns The index of the server, or -1 when no live server can take the
   *   key (with `failover: "none"`, when the key's own server is dead).
   */
  pick(key: Uint8Array, alive: (index: number) => boolean): number {
    md5Words(key, this.#digest);
    const hash = this.#digest[0];
    if (this.#failover === "rebuild") {
      const continuum = this.#continuumFor(alive);
      if (continuum.points.length === 0) return -1;
      return continuum.owners[search(continuum.points, hash)];
    }
    const { points, owners } = this.#full;
    const start = search(points, hash);
    if (this.#failover === "none") return alive(owners[start]) ? owners[start] : -1;
    for (let i = start, seen = 0; seen < points.length; seen++) {
      if (alive(owners[i])) return owners[i];
      if (++i === points.length) i = 0;
    }
    return -1;
  }

  /** The continuum for the live servers: the full one, or a rebuilt one, cached. */
  #continuumFor(alive: (index: number) => boolean): Continuum {
    const liveness = this.#liveness;
    let all = true;
    for (let i = 0; i < liveness.length; i++) {
      liveness[i] = alive(i) ? 1 : 0;
      if (!liveness[i]) all = false;
    }
    if (all) return this.#full;
    if (this.#rebuilt === undefined || !sameBytes(this.#rebuiltFor, liveness)) {
      this.#rebuilt = this.#build(liveness);
      this.#rebuiltFor = liveness.slice();
    }
    return this.#rebuilt;
  }

  /** libmemcached's update_continuum() over the servers marked live. */
  #build(liveness: Uint8Array): Continuum {
    const f = Math.fround;
    let live = 0, totalWeight = 0;
    this.#servers.forEach((server, i) => {
      if (liveness[i]) {
        live++;
        totalWeight += server.weight;
      }
    });
    // Each entry packs a point and its server as point * 2^20 + index, below
    // 2^52 so exact as a double; sorting them orders by point, then index, as
    // libmemcached's qsort comparator does.
    const packed: number[] = [];
    const encoder = new TextEncoder();
    this.#servers.forEach((server, index) => {
      if (!liveness[index]) return;
      // libmemcached computes the share in float32 (C `float`) arithmetic.
      const pct = f(f(server.weight) / f(totalWeight));
      const groups = Math.floor(f(f(f(f(pct * POINTS_PER_SERVER) / 4) * f(live)) + f(1e-10)));
      const prefix = server.port === DEFAULT_PORT
        ? `${server.host}-`
        : `${server.host}:${server.port}-`;
      for (let group = 0; group < groups; group++) {
        md5Words(encoder.encode(prefix + group), this.#digest);
        for (let word = 0; word < 4; word++) packed.push(this.#digest[word] * MAX_SERVERS + index);
      }
    });
    const sorted = Float64Array.from(packed).sort();
    const points = new Uint32Array(sorted.length);
    const owners = new Uint32Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) {
      points[i] = Math.floor(sorted[i] / MAX_SERVERS);
      owners[i] = sorted[i] % MAX_SERVERS;
    }
    return { points, owners };
  }
}

/** The index of the first point >= hash, or 0 past the last one (the wrap). */
function search(points: Uint32Array, hash: number): number {
  let low = 0, high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (points[middle] < hash) low = middle + 1;
    else high = middle;
  }
  return low === points.length ? 0 : low;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
