/**
 * @x/memcache: memcached for Deno. A memcached-compatible cache server, a
 * client with python-memcached's API and placement, and the text-protocol
 * codec both are built on.
 *
 * This entry re-exports the protocol codec and the error tree; the server
 * and the client live at `@x/memcache/server` and `@x/memcache/client`.
 *
 * @example Parsing a reply
 * ```ts
 * import { ResponseParser } from "@x/memcache";
 *
 * const parser = new ResponseParser();
 * parser.push(new TextEncoder().encode("STORED\r\n"));
 * console.assert(parser.next()?.type === "status");
 * ```
 *
 * @module
 */

export * from "./protocol/mod.ts";
