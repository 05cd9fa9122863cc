/**
 * memcached's reply lines, byte for byte as memcached 1.6 sends them. Both
 * the server (which sends them) and the client (which recognises them) use
 * these, so the texts live in one place.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A reply line's bytes, CRLF included. */
function line(text: string): Uint8Array {
  return encoder.encode(`${text}\r\n`);
}

/** The reply texts, without CRLF. */
export const REPLY_TEXT = {
  ERROR: "ERROR",
  STORED: "STORED",
  NOT_STORED: "NOT_STORED",
  EXISTS: "EXISTS",
  NOT_FOUND: "NOT_FOUND",
  DELETED: "DELETED",
  TOUCHED: "TOUCHED",
  OK: "OK",
  END: "END",
  RESET: "RESET",
  BAD_COMMAND_LINE_FORMAT: "CLIENT_ERROR bad command line format",
  BAD_DATA_CHUNK: "CLIENT_ERROR bad data chunk",
  BAD_DELETE_FORMAT: "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
  INVALID_EXPTIME: "CLIENT_ERROR invalid exptime argument",
  INVALID_DELTA: "CLIENT_ERROR invalid numeric delta argument",
  NON_NUMERIC: "CLIENT_ERROR cannot increment or decrement non-numeric value",
  INVALID_SHUTDOWN_MODE: "CLIENT_ERROR invalid shutdown mode",
  SHUTDOWN_NOT_ENABLED: "ERROR: shutdown not enabled",
  TOO_LARGE: "SERVER_ERROR object too large for cache",
  OUT_OF_MEMORY_STORING: "SERVER_ERROR out of memory storing object",
  OUT_OF_MEMORY: "SERVER_ERROR out of memory",
  META_OPTIONS_TOO_LONG: "CLIENT_ERROR options flags too long",
  UNAUTHENTICATED: "CLIENT_ERROR unauthenticated",
  AUTH_FAILURE: "CLIENT_ERROR authentication failure",
  BAD_AUTH_TOKEN_FORMAT: "CLIENT_ERROR bad authentication token format",
  BAD_LINE_TERMINATION: "CLIENT_ERROR bad command line termination",
  FLUSH_NOT_ALLOWED: "CLIENT_ERROR flush_all not allowed",
} as const;

/** The name of one of memcached's fixed reply lines. */
export type ReplyName = keyof typeof REPLY_TEXT;

/**
 * memcached's fixed reply lines as bytes, CRLF included, ready to write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REPLY } from "@x/memcache/protocol";
 *
 * assert.equal(new TextDecoder().decode(REPLY.STORED), "STORED\r\n");
 * ```
 */
export const REPLY: { readonly [name in ReplyName]: Uint8Array } = Object.fromEntries(
  Object.entries(REPLY_TEXT).map(([name, text]) => [name, line(text)]),
) as { [name in ReplyName]: Uint8Array };
