/**
 * @x/memcache: memcached for Deno. A memcached-compatible cache server
 * ({@linkcode serve}), a client with python-memcached's API and key
 * placement ({@linkcode Client}), and the protocol codec both are built on.
 *
 * This entry exports the client and the server with their options, and the
 * codec with the error tree. The routers and value codec are at
 * `@x/memcache/client`, the clocks and the command line at
 * `@x/memcache/server`, and the codec alone at `@x/memcache/protocol`.
 *
 * @example A server and a client in one process
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, serve } from "@x/memcache";
 *
 * await using server = serve({ port: 0 });
 * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
 * await client.set("greeting", "hello", { ttl: 60 });
 * assert.equal(await client.get("greeting"), "hello");
 * ```
 *
 * @example Parsing a reply
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResponseParser } from "@x/memcache";
 *
 * const parser = new ResponseParser();
 * parser.push(new TextEncoder().encode("STORED\r\n"));
 * assert.equal(parser.next()?.type, "status");
 * ```
 *
 * @module
 */

export * from "./protocol/mod.ts";
export {
  type CallOptions,
  type CasValue,
  Client,
  type ClientOptions,
  type ClientTlsOptions,
  type DeadServer,
  type DeleteOptions,
  type FlushOptions,
  type GetOrSetOptions,
  type MetaArithmeticOptions,
  type MetaArithmeticResult,
  type MetaDeleteOptions,
  type MetaDeleteResult,
  type MetaGetOptions,
  type MetaGetResult,
  type MetaSetOptions,
  type MetaSetResult,
  type MultiOptions,
  type Router,
  type Serializer,
  type ServerAddress,
  type ServerSpec,
  type SetMultiOptions,
  type StatsOptions,
  type StoreOptions,
  type TouchOptions,
} from "./client/mod.ts";
export {
  type Clock,
  type ConnectionLayer,
  type MemcacheServer,
  serve,
  type ServeOptions,
  type ServeTlsOptions,
} from "./server/mod.ts";
