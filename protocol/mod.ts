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
 * import assert from "node:assert/strict";
 * import { encodeRequest, RequestParser } from "@x/memcache/protocol";
 *
 * const parser = new RequestParser();
 * parser.push(encodeRequest({ type: "delete", key: new TextEncoder().encode("k"), noreply: false }));
 * assert.equal(parser.next()?.type, "delete");
 * ```
 *
 * @module
 */

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
} from "./errors.ts";
export {
  ITEM_SIZE_MAX,
  itemSize,
  KEY_MAX_LENGTH,
  LINE_MAX_LENGTH,
  MAX_TOKENS,
  REALTIME_MAXDELTA,
} from "./limits.ts";
export { REPLY, REPLY_TEXT, type ReplyName } from "./replies.ts";
export {
  type DataBlockBudget,
  RequestParser,
  type RequestParserOptions,
} from "./request_parser.ts";
export {
  type ArithmeticRequest,
  type CacheMemlimitRequest,
  type DataStatus,
  type DeleteRequest,
  type FlushAllRequest,
  type InvalidRequest,
  type LruCrawlerRequest,
  type MetaCommand,
  type MetaRequest,
  type QuitRequest,
  type RefreshCertsRequest,
  type Request,
  type RetrievalCommand,
  type RetrievalRequest,
  type ShutdownRequest,
  type SlabsRequest,
  type StatsRequest,
  type StorageCommand,
  type StorageRequest,
  type TouchRequest,
  type VerbosityRequest,
  type VersionRequest,
  type WatchRequest,
} from "./requests.ts";
export {
  type EndResponse,
  type ErrorResponse,
  type MetaCode,
  type MetaResponse,
  type NumberResponse,
  type Response,
  ResponseParser,
  type ResponseParserOptions,
  type StatResponse,
  type Status,
  type StatusResponse,
  type ValueResponse,
  ValueSpan,
  type VersionResponse,
} from "./response_parser.ts";
export {
  assertValidKey,
  type EncodableRequest,
  encodeRequest,
  writeRequest,
} from "./request_encoder.ts";
export { encodeResponse, writeResponse, writeValueHeader } from "./response_encoder.ts";
export { type ByteSink, WriteBuffer } from "./write_buffer.ts";
