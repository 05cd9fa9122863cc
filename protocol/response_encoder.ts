/**
 * The response encoder: what a memcached server sends.
 *
 * @module
 */

import type { Response } from "./response_parser.ts";
import { type ByteSink, encodeWith } from "./write_buffer.ts";

const SPACE = 0x20;
const CRLF = new Uint8Array([0x0d, 0x0a]);
const VALUE_ = new Uint8Array([0x56, 0x41, 0x4c, 0x55, 0x45, 0x20]);

/**
 * Writes the header line of a `VALUE` reply, `VALUE <key> <flags> <bytes>
 * [<cas>]\r\n`, the form a server writes straight from its store before the
 * value and its CRLF.
 *
 * @param sink Where the bytes go.
 * @param key The key bytes.
 * @param flags The 32-bit client flags.
 * @param length The value's length in bytes.
 * @param cas The cas unique, for `gets`/`gats`; omitted when undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriteBuffer, writeValueHeader } from "@x/memcache/protocol";
 *
 * const out = new WriteBuffer();
 * writeValueHeader(out, new TextEncoder().encode("k"), 0, 5, 7n);
 * assert.equal(new TextDecoder().decode(out.view()), "VALUE k 0 5 7\r\n");
 * ```
 */
export function writeValueHeader(
  sink: ByteSink,
  key: Uint8Array,
  flags: number,
  length: number,
  cas?: bigint | number,
): void {
  sink.bytes(VALUE_);
  sink.bytes(key);
  sink.byte(SPACE);
  sink.decimal(flags);
  sink.byte(SPACE);
  sink.decimal(length);
  if (cas !== undefined) {
    sink.byte(SPACE);
    sink.decimal(cas);
  }
  sink.bytes(CRLF);
}

/**
 * Writes a reply frame into a sink (a {@linkcode WriteBuffer}, say).
 *
 * @param sink Where the bytes go.
 * @param response The reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriteBuffer, writeResponse } from "@x/memcache/protocol";
 *
 * const out = new WriteBuffer();
 * writeResponse(out, { type: "status", status: "STORED" });
 * writeResponse(out, { type: "stat", name: "pid", value: "42" });
 * assert.equal(new TextDecoder().decode(out.view()), "STORED\r\nSTAT pid 42\r\n");
 * ```
 */
export function writeResponse(sink: ByteSink, response: Response): void {
  switch (response.type) {
    case "value":
      writeValueHeader(sink, response.key, response.flags, response.data.length, response.cas);
      sink.bytes(response.data);
      break;
    case "end":
      sink.latin1("END");
      break;
    case "status":
      sink.latin1(response.status);
      break;
    case "number":
      sink.decimal(response.value);
      break;
    case "stat":
      sink.latin1(`STAT ${response.name} ${response.value}`);
      break;
    case "version":
      sink.latin1(`VERSION ${response.version}`);
      break;
    case "error":
      sink.latin1(response.kind);
      if (response.message !== "") {
        sink.byte(SPACE);
        sink.latin1(response.message);
      }
      break;
    case "meta":
      sink.latin1(response.code);
      if (response.code === "VA") {
        sink.byte(SPACE);
        sink.decimal(response.data.length);
      }
      for (const flag of response.flags) {
        sink.byte(SPACE);
        sink.bytes(flag);
      }
      if (response.code === "VA") {
        sink.bytes(CRLF);
        sink.bytes(response.data);
      }
      break;
  }
  sink.bytes(CRLF);
}

/**
 * Encodes a reply frame into one exactly-sized allocation.
 *
 * @param response The reply.
 * @returns The bytes to send.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponse } from "@x/memcache/protocol";
 *
 * const bytes = encodeResponse({ type: "end" });
 * assert.equal(new TextDecoder().decode(bytes), "END\r\n");
 * ```
 */
export function encodeResponse(response: Response): Uint8Array {
  return encodeWith(writeResponse, response);
}
