/**
 * The request encoder: what a memcached client sends. Keys are checked the
 * way python-memcached checks them before anything is sent.
 *
 * @module
 */

import { KEY_MAX_LENGTH } from "./limits.ts";
import type { InvalidRequest, Request } from "./requests.ts";
import { type ByteSink, encodeWith } from "./write_buffer.ts";

/** Any request a client can send: every parsed request kind but `invalid`. */
export type EncodableRequest = Exclude<Request, InvalidRequest>;

const SPACE = 0x20;
const CRLF = new Uint8Array([0x0d, 0x0a]);
const GET_ = new Uint8Array([0x67, 0x65, 0x74, SPACE]);
const GETS_ = new Uint8Array([0x67, 0x65, 0x74, 0x73, SPACE]);

/**
 * Checks a key as python-memcached does: 1 to 250 bytes, none of them a
 * control character, space or DEL.
 *
 * @param key The key bytes.
 * @throws {RangeError} When the key is empty or over 250 bytes.
 * @throws {TypeError} When the key holds a control character, space or DEL.
 *
 * @example
 * ```ts
 * import { assertValidKey } from "@x/memcache/protocol";
 *
 * assertValidKey(new TextEncoder().encode("user:42"));
 * ```
 */
export function assertValidKey(key: Uint8Array): void {
  if (key.length === 0 || key.length > KEY_MAX_LENGTH) {
    throw new RangeError(
      `Cannot use key: length ${key.length} is outside 1..${KEY_MAX_LENGTH} bytes`,
    );
  }
  for (let i = 0; i < key.length; i++) {
    const b = key[i];
    if (b <= SPACE || b === 0x7f) {
      throw new TypeError(
        `Cannot use key: byte 0x${
          b.toString(16).padStart(2, "0")
        } at ${i} is a control character or space`,
      );
    }
  }
}

function key(sink: ByteSink, bytes: Uint8Array): void {
  sink.byte(SPACE);
  sink.bytes(bytes);
}

function number(sink: ByteSink, value: number | bigint): void {
  sink.byte(SPACE);
  if (value < 0) {
    sink.byte(0x2d);
    sink.decimal(-value);
  } else {
    sink.decimal(value);
  }
}

function noreply(sink: ByteSink, on: boolean): void {
  if (on) sink.latin1(" noreply");
}

/**
 * Writes a request into a sink (a {@linkcode WriteBuffer}, say) in memcached's
 * text protocol.
 *
 * @param sink Where the bytes go.
 * @param request The request.
 * @throws {RangeError} For a key outside 1..250 bytes or a number out of range.
 * @throws {TypeError} For a key with a control character or space.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriteBuffer, writeRequest } from "@x/memcache/protocol";
 *
 * const out = new WriteBuffer();
 * writeRequest(out, { type: "version" });
 * assert.equal(new TextDecoder().decode(out.view()), "version\r\n");
 * ```
 */
export function writeRequest(sink: ByteSink, request: EncodableRequest): void {
  switch (request.type) {
    case "storage":
      assertValidKey(request.key);
      checkU32(request.flags, "flags");
      checkI32(request.exptime, "exptime");
      sink.latin1(request.command);
      key(sink, request.key);
      number(sink, request.flags);
      number(sink, request.exptime);
      number(sink, request.data.length);
      if (request.command === "cas") number(sink, checkU64(request.cas, "cas"));
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      sink.bytes(request.data);
      sink.bytes(CRLF);
      return;
    case "retrieval":
      if (request.keys.length === 0) throw new RangeError("Cannot get: no keys given");
      sink.latin1(request.command);
      if (request.command === "gat" || request.command === "gats") {
        number(sink, checkI32(request.exptime, "exptime"));
      }
      for (const k of request.keys) {
        assertValidKey(k);
        key(sink, k);
      }
      sink.bytes(CRLF);
      return;
    case "delete":
      assertValidKey(request.key);
      sink.latin1("delete");
      key(sink, request.key);
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      return;
    case "arithmetic":
      assertValidKey(request.key);
      sink.latin1(request.command);
      key(sink, request.key);
      number(sink, checkU64(request.delta, "delta"));
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      return;
    case "touch":
      assertValidKey(request.key);
      sink.latin1("touch");
      key(sink, request.key);
      number(sink, checkI32(request.exptime, "exptime"));
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      return;
    case "flush_all":
      sink.latin1("flush_all");
      if (request.delay !== 0) number(sink, checkI32(request.delay, "delay"));
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      return;
    case "verbosity":
      sink.latin1("verbosity");
      number(sink, checkU32(request.level, "level"));
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      return;
    case "stats":
    case "shutdown":
    case "lru_crawler":
    case "watch":
      sink.latin1(request.type);
      for (const arg of request.args) words(sink, arg);
      sink.bytes(CRLF);
      return;
    case "refresh_certs":
      sink.latin1("refresh_certs");
      noreply(sink, request.noreply);
      sink.bytes(CRLF);
      return;
    case "version":
    case "quit":
      sink.latin1(request.type);
      sink.bytes(CRLF);
      return;
    case "meta":
      sink.latin1(request.command);
      if (request.command !== "mn") {
        assertValidKey(request.key);
        key(sink, request.key);
        if (request.command === "ms") number(sink, request.data.length);
        for (const flag of request.flags) {
          if (flag.length === 0 || flag.includes(SPACE) || flag.includes(0x0a)) {
            throw new TypeError("Cannot encode meta flag: empty or holds a space or newline");
          }
          key(sink, flag);
        }
      }
      sink.bytes(CRLF);
      if (request.command === "ms") {
        sink.bytes(request.data);
        sink.bytes(CRLF);
      }
      return;
  }
}

/**
 * Writes a `get` or `gets` line whose keys the caller has already checked,
 * as the client's hot path does (internal: not exported from `mod.ts`): unlike {@linkcode writeRequest}, nothing is
 * checked again, so keys that are empty, too long or hold a control
 * character or space go out as given.
 *
 * @param sink Where the bytes go.
 * @param command `"get"`, or `"gets"` for the cas tokens too.
 * @param keys One key, or several joined by single spaces, each already
 *   checked as {@linkcode assertValidKey} checks it.
 */
export function writeGetLine(sink: ByteSink, command: "get" | "gets", keys: Uint8Array): void {
  sink.bytes(command === "get" ? GET_ : GETS_);
  sink.bytes(keys);
  sink.bytes(CRLF);
}

/**
 * Encodes a request into one exactly-sized allocation.
 *
 * @param request The request.
 * @returns The bytes to send.
 * @throws {RangeError} For a key outside 1..250 bytes or a number out of range.
 * @throws {TypeError} For a key with a control character or space.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRequest } from "@x/memcache/protocol";
 *
 * const bytes = encodeRequest({
 *   type: "storage",
 *   command: "set",
 *   key: new TextEncoder().encode("greeting"),
 *   flags: 0,
 *   exptime: 0,
 *   cas: 0n,
 *   noreply: false,
 *   data: new TextEncoder().encode("hello"),
 *   status: "ok",
 * });
 * assert.equal(new TextDecoder().decode(bytes), "set greeting 0 0 5\r\nhello\r\n");
 * ```
 */
export function encodeRequest(request: EncodableRequest): Uint8Array {
  return encodeWith(writeRequest, request);
}

function words(sink: ByteSink, word: string): void {
  if (word.length === 0 || /[\s\0]/.test(word)) {
    throw new TypeError(`Cannot encode argument "${word}": empty or holds white space`);
  }
  sink.byte(SPACE);
  sink.latin1(word);
}

function checkU32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`Cannot encode ${what}: ${value} is not a 32-bit unsigned integer`);
  }
  return value;
}

function checkI32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
    throw new RangeError(`Cannot encode ${what}: ${value} is not a 32-bit signed integer`);
  }
  return value;
}

function checkU64(value: bigint, what: string): bigint {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`Cannot encode ${what}: ${value} is not a 64-bit unsigned integer`);
  }
  return value;
}
