/**
 * The response parser: what a memcached client reads. It knows every reply
 * memcached's text and meta protocols send, and refuses anything else with a
 * {@linkcode ProtocolError}.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { parseDecimal, parseDecimalU64 } from "./_numbers.ts";
import { ReadBuffer } from "./_read_buffer.ts";

/** A reply that is one fixed word. */
export type Status =
  | "STORED"
  | "NOT_STORED"
  | "EXISTS"
  | "NOT_FOUND"
  | "DELETED"
  | "TOUCHED"
  | "OK"
  | "RESET";

/** The two-letter codes of meta replies. */
export type MetaCode = "HD" | "VA" | "EN" | "NF" | "NS" | "EX" | "MN" | "ME";

/** `VALUE <key> <flags> <bytes> [<cas>]` and its data block. */
export interface ValueResponse {
  /** The kind of frame. */
  readonly type: "value";
  /** The key bytes. */
  readonly key: Uint8Array;
  /** The 32-bit client flags. */
  readonly flags: number;
  /** The cas unique, sent in reply to `gets`/`gats`. */
  readonly cas: bigint | undefined;
  /** The value bytes. */
  readonly data: Uint8Array;
}

/** `END`: the last line of a retrieval or `stats` reply. */
export interface EndResponse {
  /** The kind of frame. */
  readonly type: "end";
}

/** `STORED`, `NOT_FOUND` and the other one-word replies. */
export interface StatusResponse {
  /** The kind of frame. */
  readonly type: "status";
  /** What became of the data block. */
  readonly status: Status;
}

/** The new value after `incr`/`decr`. */
export interface NumberResponse {
  /** The kind of frame. */
  readonly type: "number";
  /** The counter's new value. */
  readonly value: bigint;
}

/** `STAT <name> <value>`. */
export interface StatResponse {
  /** The kind of frame. */
  readonly type: "stat";
  /** The statistic's name. */
  readonly name: string;
  /** Everything after the name, as Latin-1. */
  readonly value: string;
}

/** `VERSION <version>`. */
export interface VersionResponse {
  /** The kind of frame. */
  readonly type: "version";
  /** The version string. */
  readonly version: string;
}

/** `ERROR`, `CLIENT_ERROR <message>` or `SERVER_ERROR <message>`. */
export interface ErrorResponse {
  /** The kind of frame. */
  readonly type: "error";
  /** Which error reply it is. */
  readonly kind: "ERROR" | "CLIENT_ERROR" | "SERVER_ERROR";
  /** The text after the kind; empty for a bare `ERROR`. */
  readonly message: string;
}

/** A meta reply: `HD VA EN NF NS EX MN ME` with its flag tokens (and the data block of `VA`). */
export interface MetaResponse {
  /** The kind of frame. */
  readonly type: "meta";
  /** The two-letter code. */
  readonly code: MetaCode;
  /** The tokens after the code (after the size for `VA`; the key first for `ME`). */
  readonly flags: Uint8Array[];
  /** The value of `VA`, without its CRLF; empty for the other codes. */
  readonly data: Uint8Array;
}

/** One complete reply frame, as {@linkcode ResponseParser.next} gives it. */
export type Response =
  | ValueResponse
  | EndResponse
  | StatusResponse
  | NumberResponse
  | StatResponse
  | VersionResponse
  | ErrorResponse
  | MetaResponse;

/** Options of {@linkcode ResponseParser}. */
export interface ResponseParserOptions {
  /**
   * The largest value accepted in a `VALUE` or `VA` block.
   *
   * @default {134217728}
   */
  maxValueLength?: number;
  /**
   * The longest reply line accepted.
   *
   * @default {8192}
   */
  maxLineLength?: number;
}

/**
 * Where the parts of one `VALUE` frame lie in a parser's buffer, as
 * {@linkcode ResponseParser.nextValue} fills it in. One span is reused for
 * frame after frame; its offsets are valid until the parser next reads,
 * pushes or reserves.
 */
export class ValueSpan {
  /** The parser's buffer, which holds the key and the value. */
  buffer: Uint8Array = new Uint8Array(0);
  /** Where the key starts in `buffer`. */
  keyStart = 0;
  /** Where the key ends in `buffer` (exclusive). */
  keyEnd = 0;
  /** The client flags. */
  flags = 0;
  /** The CAS unique, when the line has one (`gets`). */
  cas: bigint | undefined = undefined;
  /** Where the value starts in `buffer`. */
  dataStart = 0;
  /** Where the value ends in `buffer` (exclusive), before its CRLF. */
  dataEnd = 0;
}

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);

const STATUSES: Record<string, Status> = {
  STORED: "STORED",
  NOT_STORED: "NOT_STORED",
  EXISTS: "EXISTS",
  NOT_FOUND: "NOT_FOUND",
  DELETED: "DELETED",
  TOUCHED: "TOUCHED",
  OK: "OK",
  RESET: "RESET",
};
const META_CODES: Record<string, MetaCode> = {
  HD: "HD",
  VA: "VA",
  EN: "EN",
  NF: "NF",
  NS: "NS",
  EX: "EX",
  MN: "MN",
  ME: "ME",
};
const END: EndResponse = Object.freeze({ type: "end" });
const STATUS_FRAMES = Object.fromEntries(
  Object.values(STATUSES).map((status) => [status, Object.freeze({ type: "status", status })]),
) as Record<Status, StatusResponse>;

function latin1(buf: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
}

/**
 * A resumable, synchronous parser of memcached replies. Push bytes, then call
 * {@linkcode ResponseParser.next} until it returns `undefined`. Keys and
 * values are views into the parser's buffer, valid until the next `push` or
 * `reserve`: copy what you keep.
 *
 * @example Reading a `gets` reply
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResponseParser } from "@x/memcache/protocol";
 *
 * const parser = new ResponseParser();
 * parser.push(new TextEncoder().encode("VALUE greeting 0 5 42\r\nhello\r\nEND\r\n"));
 * const value = parser.next();
 * assert.ok(value?.type === "value");
 * assert.equal(value.cas, 42n);
 * assert.equal(parser.next()?.type, "end");
 * ```
 */
export class ResponseParser {
  #in = new ReadBuffer();
  #maxValueLength: number;
  #maxLineLength: number;
  #span = new ValueSpan();

  /**
   * Creates a parser.
   *
   * @param options The value and line limits.
   */
  constructor(options?: ResponseParserOptions) {
    this.#maxValueLength = options?.maxValueLength ?? 128 * 1024 * 1024;
    this.#maxLineLength = options?.maxLineLength ?? 8192;
  }

  /** How many bytes are buffered and not yet parsed. */
  get buffered(): number {
    return this.#in.length;
  }

  /**
   * Appends bytes read from the connection.
   *
   * @param chunk The bytes; copied, so the caller may reuse it.
   */
  push(chunk: Uint8Array): void {
    this.#in.push(chunk);
  }

  /**
   * Room to read into without a copy; follow with {@linkcode ResponseParser.commit}.
   *
   * @param minBytes The least room wanted.
   * @returns The free tail of the buffer.
   */
  reserve(minBytes: number): Uint8Array {
    return this.#in.reserve(minBytes);
  }

  /**
   * Marks bytes written into the view {@linkcode ResponseParser.reserve} gave.
   *
   * @param n How many bytes were written.
   * @throws {RangeError} When `n` is more than was reserved.
   */
  commit(n: number): void {
    this.#in.commit(n);
  }

  /**
   * The next complete reply frame, or `undefined` when more bytes are needed.
   *
   * @returns The frame, or `undefined`.
   * @throws {ProtocolError} For bytes that are not a memcached reply, or that break a limit.
   */
  next(): Response | undefined {
    const input = this.#in;
    if (input.length === 0) {
      input.shrink();
      return undefined;
    }
    const start = input.start;
    const newline = input.indexOfNewline(start);
    if (newline < 0) {
      if (input.length > this.#maxLineLength) {
        throw new ProtocolError(
          `Cannot parse reply: line longer than ${this.#maxLineLength} bytes`,
        );
      }
      return undefined;
    }
    const buf = input.buf;
    if (newline === start || buf[newline - 1] !== CR) {
      throw this.#error("line does not end in CRLF", start, newline);
    }
    if (newline - start > this.#maxLineLength) {
      throw new ProtocolError(`Cannot parse reply: line longer than ${this.#maxLineLength} bytes`);
    }
    const end = newline - 1;
    const next = newline + 1;
    const first = buf[start];
    if (
      first === 0x56 && buf[start + 1] === 0x41 && buf[start + 2] === 0x4c &&
      buf[start + 3] === 0x55 && buf[start + 4] === 0x45 &&
      (end - start === 5 || buf[start + 5] === SPACE)
    ) {
      return this.#value(buf, start, end, next);
    }
    if (first === 0x56 && startsWithWord(buf, start, end, "VA")) {
      return this.#meta(buf, start, end, next);
    }
    if (first >= 0x30 && first <= 0x39) {
      const value = parseDecimalU64(buf, start, end);
      if (value === undefined) throw this.#error("bad number", start, end);
      input.skip(next - start);
      return { type: "number", value };
    }
    const wordEnd = indexOfSpace(buf, start, end);
    const word = latin1(buf, start, wordEnd);
    if (word === "END" && wordEnd === end) {
      input.skip(next - start);
      return END;
    }
    const status = STATUSES[word];
    if (status !== undefined && wordEnd === end) {
      input.skip(next - start);
      return STATUS_FRAMES[status];
    }
    if (META_CODES[word] !== undefined) return this.#meta(buf, start, end, next);
    switch (word) {
      case "STAT": {
        const nameEnd = indexOfSpace(buf, wordEnd + 1, end);
        if (wordEnd === end || nameEnd === end) throw this.#error("bad STAT line", start, end);
        input.skip(next - start);
        return {
          type: "stat",
          name: latin1(buf, wordEnd + 1, nameEnd),
          value: latin1(buf, nameEnd + 1, end),
        };
      }
      case "VERSION":
        if (wordEnd === end) throw this.#error("bad VERSION line", start, end);
        input.skip(next - start);
        return { type: "version", version: latin1(buf, wordEnd + 1, end) };
      case "CLIENT_ERROR":
      case "SERVER_ERROR":
        input.skip(next - start);
        return { type: "error", kind: word, message: latin1(buf, Math.min(wordEnd + 1, end), end) };
      default:
        if (startsWithWord(buf, start, end, "ERROR") || word.startsWith("ERROR:")) {
          input.skip(next - start);
          let from = start + 5;
          while (from < end && (buf[from] === 0x3a || buf[from] === SPACE)) from++;
          return { type: "error", kind: "ERROR", message: latin1(buf, from, end) };
        }
        throw this.#error("unknown reply", start, end);
    }
  }

  /**
   * Reads the next frame when it is a whole `VALUE` frame in the form
   * memcached writes, without making an object or a view for it: `span` is
   * filled in with where its key and value lie, and the frame is consumed.
   * A multi-get's hundred values then cost no frame each. Anything else (a
   * frame not yet all buffered, another reply, a line that breaks a rule or
   * a limit) is left as it was, for {@linkcode ResponseParser.next} to read
   * or to report.
   *
   * @param span Filled in when a frame is read.
   * @returns Whether a `VALUE` frame was read into `span`.
   */
  nextValue(span: ValueSpan): boolean {
    const input = this.#in;
    const buf = input.buf;
    const start = input.start;
    const end = input.end;
    if (
      end - start < 12 || buf[start] !== 0x56 || buf[start + 1] !== 0x41 ||
      buf[start + 2] !== 0x4c || buf[start + 3] !== 0x55 || buf[start + 4] !== 0x45 ||
      buf[start + 5] !== SPACE
    ) {
      return false;
    }
    // One pass over "<key> <flags> <bytes>[ <cas>]\r\n", bounded by the
    // line limit and by the bytes buffered.
    const limit = Math.min(end, start + this.#maxLineLength);
    const keyStart = start + 6;
    let i = keyStart;
    while (i < limit && buf[i] > SPACE && buf[i] !== 0x7f) i++;
    const keyEnd = i;
    if (keyEnd === keyStart || buf[i] !== SPACE) return false;
    let flags = 0;
    let from = ++i;
    for (let d = buf[i] - 0x30; i < limit && d >= 0 && d <= 9; d = buf[++i] - 0x30) {
      flags = flags * 10 + d;
    }
    if (i === from || i - from > 10 || flags > 0xffff_ffff || buf[i] !== SPACE) return false;
    let length = 0;
    from = ++i;
    for (let d = buf[i] - 0x30; i < limit && d >= 0 && d <= 9; d = buf[++i] - 0x30) {
      length = length * 10 + d;
    }
    if (i === from || i - from > 15) return false;
    let cas: bigint | undefined;
    if (buf[i] === SPACE) {
      from = ++i;
      while (i < limit && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
      cas = i < limit ? parseDecimalU64(buf, from, i) : undefined;
      if (cas === undefined) return false;
    }
    const dataStart = i + 2;
    const dataEnd = dataStart + length;
    if (
      i + 1 >= limit || buf[i] !== CR || buf[i + 1] !== LF || length > this.#maxValueLength ||
      dataEnd + 2 > end || buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF
    ) {
      return false;
    }
    input.skip(dataEnd + 2 - start);
    span.buffer = buf;
    span.keyStart = keyStart;
    span.keyEnd = keyEnd;
    span.flags = flags;
    span.cas = cas;
    span.dataStart = dataStart;
    span.dataEnd = dataEnd;
    return true;
  }

  #value(buf: Uint8Array, start: number, end: number, next: number): Response | undefined {
    const span = this.#span;
    this.#valueLine(buf, start, end, span);
    const dataEnd = this.#block(buf, start, next, span.dataEnd);
    if (dataEnd < 0) return undefined;
    return {
      type: "value",
      key: buf.subarray(span.keyStart, span.keyEnd),
      flags: span.flags,
      cas: span.cas,
      data: buf.subarray(next, dataEnd),
    };
  }

  /**
   * Reads the `VALUE <key> <flags> <bytes> [<cas>]` line in [start, end), in
   * one pass, into `span`; its `dataEnd` holds the block's length.
   */
  #valueLine(buf: Uint8Array, start: number, end: number, span: ValueSpan): void {
    const k = start + 6;
    let i = k;
    while (i < end && buf[i] !== SPACE) i++;
    const keyEnd = i;
    let flags = 0;
    let length = 0;
    let digits = 0;
    for (i++; i < end; i++, digits++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      flags = flags * 10 + d;
    }
    if (keyEnd === k || digits === 0 || digits > 10 || buf[i] !== SPACE || flags > 0xffff_ffff) {
      throw this.#error("bad VALUE line", start, end);
    }
    digits = 0;
    for (i++; i < end; i++, digits++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      length = length * 10 + d;
    }
    if (digits === 0 || digits > 15 || (i < end && buf[i] !== SPACE)) {
      throw this.#error("bad VALUE line", start, end);
    }
    let cas: bigint | undefined;
    if (i < end) {
      cas = parseDecimalU64(buf, i + 1, end);
      if (cas === undefined) throw this.#error("bad cas in VALUE line", start, end);
    }
    span.buffer = buf;
    span.keyStart = k;
    span.keyEnd = keyEnd;
    span.flags = flags;
    span.cas = cas;
    span.dataEnd = length;
  }

  #meta(buf: Uint8Array, start: number, end: number, next: number): Response | undefined {
    const code = META_CODES[latin1(buf, start, start + 2)];
    const flags: Uint8Array[] = [];
    let i = start + 2;
    while (i < end) {
      if (buf[i] !== SPACE) throw this.#error(`bad ${code} line`, start, end);
      const s = i + 1;
      i = indexOfSpace(buf, s, end);
      if (i === s) throw this.#error(`bad ${code} line`, start, end);
      flags.push(buf.subarray(s, i));
    }
    if (code !== "VA") {
      this.#in.skip(next - start);
      return { type: "meta", code, flags, data: EMPTY };
    }
    const size = flags.shift();
    const length = size === undefined ? -1 : parseDecimal(size, 0, size.length);
    if (length < 0) throw this.#error("bad VA line", start, end);
    const dataEnd = this.#block(buf, start, next, length);
    if (dataEnd < 0) return undefined;
    return { type: "meta", code, flags, data: buf.subarray(next, dataEnd) };
  }

  /**
   * Where the data block after a line ends; -1 until all of it is buffered
   * (room for it is reserved then). Consumes line and block once whole.
   */
  #block(buf: Uint8Array, start: number, next: number, length: number): number {
    if (length > this.#maxValueLength) {
      throw new ProtocolError(
        `Cannot parse reply: value of ${length} bytes exceeds the limit of ${this.#maxValueLength}`,
      );
    }
    const input = this.#in;
    const dataEnd = next + length;
    if (input.end < dataEnd + 2) {
      input.reserve(dataEnd + 2 - input.end);
      return -1;
    }
    if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) {
      throw this.#error("data block does not end in CRLF", start, next - 2);
    }
    input.skip(dataEnd + 2 - start);
    return dataEnd;
  }

  #error(what: string, start: number, end: number): ProtocolError {
    const line = latin1(this.#in.buf, start, Math.min(end, start + 200));
    return new ProtocolError(`Cannot parse reply: ${what}: "${line}"`, { line });
  }
}

function indexOfSpace(buf: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && buf[i] !== SPACE) i++;
  return i;
}

/** Whether the line starts with `word` followed by a space or the line's end. */
function startsWithWord(buf: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word.charCodeAt(i)) return false;
  return end - start === word.length || buf[start + word.length] === SPACE;
}
