/**
 * One server as a router sees it: where it is and how large a share of the
 * keys it takes.
 *
 * @example Three servers, the last taking twice the keys of each other
 * ```ts
 * import assert from "node:assert/strict";
 * import { PythonRouter, type Router, type ServerSpec } from "@x/memcache/client";
 *
 * const servers: ServerSpec[] = [
 *   { host: "10.0.0.1", port: 11211, weight: 1 },
 *   { host: "10.0.0.2", port: 11211, weight: 1 },
 *   { host: "10.0.0.3", port: 11211, weight: 2 },
 * ];
 * const router: Router = new PythonRouter(servers);
 * assert.equal(router.pick(new TextEncoder().encode("foo"), () => true), 2);
 * ```
 */
export interface ServerSpec {
  /**
   * Host name or address, exactly as other clients are given it (routers may
   * hash it); a unix socket's path.
   */
  host: string;
  /** TCP port; 0 for a unix socket, as libmemcached has it. */
  port: number;
  /** Relative share of the keys, a non-negative integer. */
  weight: number;
  /** The unix socket's path, for a server reached through one (`unix:/path`). */
  path?: string;
}

/**
 * Maps a key to one of the client's servers. A router is built once from the
 * server list and is synchronous; the client tells it which servers are alive
 * on every call, so a router keeps no health state of its own.
 *
 * @example A router that sends every key to the first live server
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Router, ServerSpec } from "@x/memcache/client";
 *
 * function firstLive(servers: ServerSpec[]): Router {
 *   return {
 *     pick(_key, alive) {
 *       for (let i = 0; i < servers.length; i++) if (alive(i)) return i;
 *       return -1;
 *     },
 *   };
 * }
 * const router = firstLive([
 *   { host: "10.0.0.1", port: 11211, weight: 1 },
 *   { host: "10.0.0.2", port: 11211, weight: 1 },
 * ]);
 * assert.equal(router.pick(new TextEncoder().encode("user:42"), (i) => i > 0), 1);
 * ```
 */
export interface Router {
  /**
   * Chooses the server for a key.
   *
   * @param key The key's bytes, as sent on the wire.
   * @param alive Whether the server at an index (into the list the router was
   *   built from) may be used now.
   * @returns The index of the server, or -1 when the router finds no live
   *   server for the key.
   */
  pick(key: Uint8Array, alive: (index: number) => boolean): number;
}
