/**
 * memcached's text and meta protocols as a byte-level codec, shared by the
 * @x/memcache server and client: bytes in, frames out, with no sockets,
 * timers or `Deno.*` calls.
 *
 * - {@linkcode RequestParser} reads what clients send, checking every line as
 *   memcached 1.6 does, so malformed input gets memcached's own reply.
 * - {@linkcode ResponseParser} reads what servers send.
 * - {@linkcode encodeRequest} / {@linkcode writeRequest} and
 *   {@linkcode encodeResponse} / {@linkcode writeResponse} write frames, into
 *   one allocation or into a {@linkcode WriteBuffer} batch.
 * - {@linkcode REPLY} holds memcached's reply lines byte for byte.
 *
 * @example A round trip through both directions
 * ```ts
 * import { encodeRequest, RequestParser } from "@x/memcache/protocol";
 *
 * const parser = new RequestParser();
 * parser.push(encodeRequest({ type: "delete", key: new TextEncoder().encode("k"), noreply: false }));
 * console.assert(parser.next()?.type === "delete");
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./limits.ts";
export * from "./replies.ts";
export * from "./request_parser.ts";
export * from "./response_parser.ts";
export * from "./request_encoder.ts";
export * from "./response_encoder.ts";
export { type ByteSink, WriteBuffer } from "./write_buffer.ts";
