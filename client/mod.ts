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
 * ```ts ignore
 * import { Client } from "@x/memcache/client";
 *
 * await using client = new Client(["10.0.0.1:11211", ["10.0.0.2:11211", 2]]);
 * await client.set("user:42", { name: "Ada" });
 * const user = await client.get<{ name: string }>("user:42");
 * ```
 *
 * @example One loader call for many callers
 * ```ts ignore
 * import { Client } from "@x/memcache/client";
 *
 * await using client = new Client(["127.0.0.1:11211"]);
 * const report = await client.getOrSet("report", () => ({ visits: 42 }), { ttl: 60, staleTtl: 30 });
 * ```
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
export { Client } from "./client.ts";
export type {
  CallOptions,
  CasValue,
  ClientOptions,
  ClientTlsOptions,
  DeleteOptions,
  FlushOptions,
  MultiOptions,
  ServerAddress,
  SetMultiOptions,
  StatsOptions,
  StoreOptions,
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
} from "./codec.ts";
