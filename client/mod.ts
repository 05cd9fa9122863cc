/**
 * The @x/memcache client side. Today it holds the key-to-server routers the
 * client shards with: python-memcached's placement ({@linkcode PythonRouter})
 * and libmemcached's weighted ketama ({@linkcode KetamaRouter}), behind the
 * small {@linkcode Router} interface a user can implement.
 *
 * @example Placing keys as python-memcached does
 * ```ts
 * import { PythonRouter } from "@x/memcache/client";
 *
 * const router = new PythonRouter([
 *   { host: "10.0.0.1", port: 11211, weight: 1 },
 *   { host: "10.0.0.2", port: 11211, weight: 2 },
 * ]);
 * const index = router.pick(new TextEncoder().encode("user:42"), () => true);
 * console.assert(index === 0 || index === 1);
 * ```
 *
 * @module
 */

export type { Router, ServerSpec } from "./router.ts";
export { PythonRouter, type PythonRouterOptions } from "./python_router.ts";
export { KetamaRouter, type KetamaRouterOptions } from "./ketama_router.ts";
