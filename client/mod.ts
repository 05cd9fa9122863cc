/**
 * The @x/memcache client side: {@linkcode Client}, a sharded memcached client
 * with one pipelined connection per server; values stored with
 * python-memcached's flags ({@linkcode ValueCodec}); and the key-to-server
 * routers it shards with: python-memcached's placement
 * ({@linkcode PythonRouter}) and libmemcached's weighted ketama
 * ({@linkcode KetamaRouter}), behind the small {@linkcode Router} interface a
 * user can implement. Beside python-memcached's calls, the client speaks
 * memcached's meta protocol ({@linkcode Client.metaGet},
 * {@linkcode Client.metaSet}, {@linkcode Client.metaDelete},
 * {@linkcode Client.metaArithmetic}) and builds a stampede-proof
 * {@linkcode Client.getOrSet} on it.
 *
 * @example A client over two servers
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client } from "@x/memcache/client";
 * import { serve } from "@x/memcache/server";
 *
 * await using one = serve({ port: 0 });
 * await using two = serve({ port: 0 });
 * await using client = new Client([
 *   `127.0.0.1:${one.addr.port}`,
 *   [`127.0.0.1:${two.addr.port}`, 2], // twice the keys of the first
 * ]);
 * await client.set("user:42", { name: "Ada" });
 * const user = await client.get<{ name: string }>("user:42");
 * assert.equal(user?.name, "Ada");
 * ```
 *
 * @example One loader call for many callers
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client } from "@x/memcache/client";
 * import { serve } from "@x/memcache/server";
 *
 * await using server = serve({ port: 0 });
 * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
 * let loads = 0;
 * const load = () => ({ visits: 42 + loads++ });
 * const reports = await Promise.all(
 *   [1, 2, 3].map(() => client.getOrSet("report", load, { ttl: 60, staleTtl: 30 })),
 * );
 * assert.deepEqual(reports, [{ visits: 42 }, { visits: 42 }, { visits: 42 }]);
 * assert.equal(loads, 1);
 * ```
 *
 * @example Placing keys as python-memcached does
 * ```ts
 * import assert from "node:assert/strict";
 * import { PythonRouter } from "@x/memcache/client";
 *
 * const router = new PythonRouter([
 *   { host: "10.0.0.1", port: 11211, weight: 1 },
 *   { host: "10.0.0.2", port: 11211, weight: 2 },
 * ]);
 * const index = router.pick(new TextEncoder().encode("user:42"), () => true);
 * assert.ok(index === 0 || index === 1);
 * ```
 *
 * @module
 */

export type { Router, ServerSpec } from "./router.ts";
export { PythonRouter, type PythonRouterOptions } from "./python_router.ts";
export { KetamaRouter, type KetamaRouterOptions } from "./ketama_router.ts";
export { Client } from "./client.ts";
export type {
  CallOptions,
  CasValue,
  ClientAuthOptions,
  ClientOptions,
  ClientTlsOptions,
  DeadServer,
  DeleteOptions,
  FlushOptions,
  MultiOptions,
  ServerAddress,
  SetMultiOptions,
  StatsOptions,
  StoreOptions,
  TouchOptions,
} from "./options.ts";
export type {
  GetOrSetOptions,
  MetaArithmeticOptions,
  MetaArithmeticResult,
  MetaDeleteOptions,
  MetaDeleteResult,
  MetaGetOptions,
  MetaGetResult,
  MetaSetOptions,
  MetaSetResult,
} from "./meta.ts";
export {
  AuthError,
  ClientError,
  CommandError,
  ConnectionError,
  MemcacheError,
  type MemcacheErrorOptions,
  NoServerError,
  ProtocolError,
  ServerError,
  TimeoutError,
} from "../protocol/errors.ts";
export {
  type EncodedValue,
  FLAG_COMPRESSED,
  FLAG_INTEGER,
  FLAG_LONG,
  FLAG_PICKLE,
  FLAG_SERIALIZED,
  FLAG_TEXT,
  JSON_SERIALIZER,
  type Serializer,
  ValueCodec,
  type ValueCodecOptions,
  ValueFlagsError,
  type ValueFlagsErrorOptions,
} from "./codec.ts";
