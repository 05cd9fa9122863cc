/**
 * The request parser: what a memcached server reads. It splits and checks
 * command lines exactly as memcached 1.6 does (`proto_text.c`), so a server
 * built on it answers malformed input with memcached's own reply and stays in
 * step with the byte stream.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { parseI32, parseU32, parseU64 } from "./_numbers.ts";
import { ITEM_SIZE_MAX, itemSize, KEY_MAX_LENGTH, LINE_MAX_LENGTH, MAX_TOKENS } from "./limits.ts";
import type { ReplyName } from "./replies.ts";
import { ReadBuffer } from "./_read_buffer.ts";
import type {
  DataStatus,
  InvalidRequest,
  MetaCommand,
  MetaRequest,
  Request,
  RetrievalCommand,
  StorageCommand,
  StorageRequest,
} from "./requests.ts";

/** Options of {@linkcode RequestParser}. */
export interface RequestParserOptions {
  /**
   * The item size limit (memcached's `-I`): a storage command whose item
   * would be larger is answered `too_large` and its data skipped unread.
   *
   * @default {1048576}
   */
  maxItemSize?: number;
  /**
   * Whether cas is on; it adds 8 bytes to each item's size, as in memcached.
   *
   * @default {true}
   */
  useCas?: boolean;
  /**
   * The longest `get`/`gets` line buffered while its newline is missing.
   * memcached lets these grow without bound; past this the parser throws.
   *
   * @default {2097152}
   */
  maxKeyListLength?: number;
  /**
   * Where a data block that is not yet all here takes its bytes from; when
   * the budget refuses, the request is answered `no_memory` and its data
   * skipped unbuffered. Without one, every data block is buffered.
   *
   * @default {undefined}
   */
  budget?: DataBlockBudget;
}

/**
 * Bytes shared by every parser's unfinished data blocks, so slow senders
 * cannot hold memory without bound. {@linkcode RequestParser} takes a block's
 * size when it starts waiting for the block and gives it back once the block
 * is whole or the parser is disposed.
 */
export interface DataBlockBudget {
  /**
   * Takes `bytes` for a data block being received.
   *
   * @param bytes The data block's size, CRLF included.
   * @returns Whether they were granted.
   */
  take(bytes: number): boolean;
  /**
   * Gives back bytes taken before.
   *
   * @param bytes As many as were taken.
   */
  give(bytes: number): void;
}

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);
const NOREPLY = [0x6e, 0x6f, 0x72, 0x65, 0x70, 0x6c, 0x79];
const GET_ = [0x67, 0x65, 0x74, 0x20];
const GETS_ = [0x67, 0x65, 0x74, 0x73, 0x20];
const HTTP_ = [0x48, 0x54, 0x54, 0x50, 0x2f];
/** The first letters memcached dispatches on before its last branch (g s a c i d t). */
const FIRST_LETTER_BRANCHES = new Set([0x67, 0x73, 0x61, 0x63, 0x69, 0x64, 0x74]);
/** Commands of memcached's last branch that ours lacks; memcached runs them, so no HTTP check. */
const MEMCACHED_ONLY = new Set(["lru", "refresh_certs"]);

const STORAGE_COMMANDS: Record<string, StorageCommand> = {
  set: "set",
  add: "add",
  replace: "replace",
  append: "append",
  prepend: "prepend",
  cas: "cas",
};
const RETRIEVAL_COMMANDS: Record<string, RetrievalCommand> = {
  get: "get",
  bget: "get",
  gets: "gets",
  gat: "gat",
  gats: "gats",
};
const META_COMMANDS: Record<string, MetaCommand> = {
  mg: "mg",
  ms: "ms",
  md: "md",
  ma: "ma",
  mn: "mn",
  me: "me",
};

/** memcached's read buffer (READ_BUFFER_SIZE): it reads at most this much at a time. */
const READ_BUFFER_SIZE = 16 * 1024;

/** The mset option-count bound of memcached (MFLAG_MAX_OPT_LENGTH). */
const META_MAX_TOKENS = 20;

function invalid(reply: ReplyName, noreply = false): InvalidRequest {
  return { type: "invalid", reply, noreply };
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
}

/**
 * The command word: `get`, `set` and `gets` as constant strings without
 * building one per request, any other word as Latin-1.
 */
function commandName(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if ((n === 3 || n === 4) && buf[start + 1] === 0x65 && buf[start + 2] === 0x74) {
    const first = buf[start];
    if (n === 3) {
      if (first === 0x67) return "get";
      if (first === 0x73) return "set";
    } else if (first === 0x67 && buf[start + 3] === 0x73) {
      return "gets";
    }
  }
  return latin1(buf, start, end);
}

/**
 * A resumable, synchronous parser of memcached requests. Feed it bytes with
 * {@linkcode RequestParser.push} (or read straight into
 * {@linkcode RequestParser.reserve} and {@linkcode RequestParser.commit}), then
 * call {@linkcode RequestParser.next} until it returns `undefined` (more bytes
 * needed). Keys and data in a request are views into the parser's buffer,
 * valid until the next `push` or `reserve`: copy what you keep.
 *
 * Malformed lines become `invalid` requests naming memcached's reply. The one
 * thing it throws is a {@linkcode ProtocolError}, for input memcached answers
 * by closing the connection: over 2048 bytes with no newline (unless the line is a
 * `get`/`gets` key list), or an unknown command whose last token starts with `HTTP/`.
 *
 * @example Parsing a pipelined set and get
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestParser } from "@x/memcache/protocol";
 *
 * const parser = new RequestParser();
 * parser.push(new TextEncoder().encode("set greeting 0 0 5\r\nhello\r\nget greeting\r\n"));
 * const set = parser.next();
 * const get = parser.next();
 * assert.ok(set?.type === "storage");
 * assert.equal(new TextDecoder().decode(set.data), "hello");
 * assert.ok(get?.type === "retrieval");
 * assert.equal(get.keys.length, 1);
 * assert.equal(parser.next(), undefined);
 * ```
 */
export class RequestParser {
  #in = new ReadBuffer();
  #maxItemSize: number;
  #useCas: boolean;
  #maxKeyListLength: number;
  #budget: DataBlockBudget | undefined;
  /** What the unfinished data block took from the budget. */
  #held = 0;
  /** Bytes of a refused data block still to be skipped. */
  #swallow = 0;
  /** A request refused as too large, given once its data block has been skipped. */
  #refused: Request | undefined;
  /** Bytes of the data block the last `next()` stopped inside; 0 when it stopped in a line. */
  #dataWanted = 0;
  #starts = new Int32Array(32);
  #ends = new Int32Array(32);
  #count = 0;
  #data: Uint8Array = EMPTY;
  #status: DataStatus = "ok";

  /**
   * Creates a parser.
   *
   * @param options The item size limit, cas, and key-list bound.
   */
  constructor(options?: RequestParserOptions) {
    this.#maxItemSize = options?.maxItemSize ?? ITEM_SIZE_MAX;
    this.#useCas = options?.useCas ?? true;
    this.#maxKeyListLength = options?.maxKeyListLength ?? 2 * 1024 * 1024;
    this.#budget = options?.budget;
  }

  /** Gives back what an unfinished data block holds of the budget; call once the connection is gone. */
  dispose(): void {
    this.#giveBack();
    this.#in.free();
  }

  /** How many bytes are buffered and not yet parsed. */
  get buffered(): number {
    return this.#in.length;
  }

  /** Whether the last `next()` wanted more of a data block (or of one it skips), not of a line. */
  get inDataBlock(): boolean {
    return this.#dataWanted > 0 || this.#swallow > 0;
  }

  /**
   * How many bytes memcached would read now: the rest of a data block (16 KiB
   * at most of one it skips), else what fills its 16 KiB buffer. Reading as
   * much makes memcached's batches, so replies go out (or drop) together.
   *
   * @returns The number of bytes to read next, at least 1.
   */
  readSize(): number {
    if (this.#dataWanted > 0) return this.#dataWanted;
    if (this.#swallow > 0) return Math.min(this.#swallow, READ_BUFFER_SIZE);
    // memcached grows its buffer past 16 KiB only for a long get key list.
    const buffered = this.#in.length;
    return buffered < READ_BUFFER_SIZE ? READ_BUFFER_SIZE - buffered : buffered;
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
   * Room to read into without a copy: returns a writable view of at least
   * `minBytes` bytes; follow with {@linkcode RequestParser.commit}.
   *
   * @param minBytes The least room wanted.
   * @returns The free tail of the buffer.
   */
  reserve(minBytes: number): Uint8Array {
    return this.#in.reserve(minBytes);
  }

  /**
   * Marks bytes written into the view {@linkcode RequestParser.reserve} gave.
   *
   * @param n How many bytes were written.
   * @throws {RangeError} When `n` is more than was reserved.
   */
  commit(n: number): void {
    this.#in.commit(n);
  }

  /**
   * The next complete request, or `undefined` when more bytes are needed.
   *
   * @returns The request, or `undefined`.
   * @throws {ProtocolError} When memcached would close the connection.
   */
  next(): Request | undefined {
    const input = this.#in;
    this.#dataWanted = 0;
    if (this.#swallow > 0) {
      const n = Math.min(this.#swallow, input.length);
      input.skip(n);
      this.#swallow -= n;
      if (this.#swallow > 0) return undefined;
    }
    if (this.#refused !== undefined) {
      const refused = this.#refused;
      this.#refused = undefined;
      return refused;
    }
    if (input.length === 0) {
      input.shrink();
      return undefined;
    }
    const buf = input.buf;
    const start = input.start;
    const newline = input.indexOfNewline(start);
    if (newline < 0) {
      this.#checkUnterminated();
      return undefined;
    }
    let end = newline;
    if (end - start > 1 && buf[end - 1] === CR) end--;
    return this.#parseLine(buf, start, end, newline + 1);
  }

  #checkUnterminated(): void {
    const input = this.#in;
    if (input.length <= LINE_MAX_LENGTH) return;
    const buf = input.buf;
    let i = input.start;
    while (buf[i] === SPACE) i++;
    const keyList = i - input.start <= 100 &&
      (startsWith(buf, i, input.end, GET_) || startsWith(buf, i, input.end, GETS_));
    if (!keyList) {
      throw new ProtocolError(
        `Cannot parse request: ${input.length} bytes with no newline`,
      );
    }
    if (input.length > this.#maxKeyListLength) {
      throw new ProtocolError(
        `Cannot parse request: key list over ${this.#maxKeyListLength} bytes with no newline`,
      );
    }
  }

  #tokenize(buf: Uint8Array, start: number, end: number): number {
    let n = 0;
    let i = start;
    // memcached works on a C string: a NUL byte ends the line early.
    while (i < end && buf[i] !== 0) {
      while (i < end && buf[i] === SPACE) i++;
      if (i >= end || buf[i] === 0) break;
      const s = i;
      while (i < end && buf[i] !== SPACE && buf[i] !== 0) i++;
      if (n === this.#starts.length) {
        const starts = new Int32Array(n * 2);
        const ends = new Int32Array(n * 2);
        starts.set(this.#starts);
        ends.set(this.#ends);
        this.#starts = starts;
        this.#ends = ends;
      }
      this.#starts[n] = s;
      this.#ends[n] = i;
      n++;
    }
    this.#count = n;
    return n;
  }

  #token(buf: Uint8Array, i: number): Uint8Array {
    return buf.subarray(this.#starts[i], this.#ends[i]);
  }

  #tokenLength(i: number): number {
    return this.#ends[i] - this.#starts[i];
  }

  #isNoreply(buf: Uint8Array, i: number): boolean {
    return i > 0 && i < this.#count && equals(buf, this.#starts[i], this.#ends[i], NOREPLY);
  }

  /** memcached's set_noreply_maybe: the last word of the line is `noreply`. */
  #lastIsNoreply(buf: Uint8Array, ntokens: number): boolean {
    return this.#isNoreply(buf, ntokens - 2);
  }

  #strings(buf: Uint8Array, from: number, ntokens: number): string[] {
    const args: string[] = [];
    for (let i = from; i < ntokens - 1; i++) args.push(latin1(buf, this.#starts[i], this.#ends[i]));
    return args;
  }

  /** Parses one line [start, end) whose next line begins at `next`; consumes what it used. */
  #parseLine(buf: Uint8Array, start: number, end: number, next: number): Request | undefined {
    const input = this.#in;
    const count = this.#tokenize(buf, start, end);
    const ntokens = Math.min(count, MAX_TOKENS - 1) + 1;
    if (count === 0 || this.#tokenLength(0) < 2) {
      input.skip(next - input.start);
      return invalid("ERROR");
    }
    const name = commandName(buf, this.#starts[0], this.#ends[0]);

    const storage = STORAGE_COMMANDS[name];
    if (storage !== undefined) return this.#parseStorage(buf, storage, ntokens, next);
    if (name === "ms") return this.#parseMetaSet(buf, ntokens, next);

    input.skip(next - input.start);
    const retrieval = RETRIEVAL_COMMANDS[name];
    if (retrieval !== undefined) return this.#parseRetrieval(buf, retrieval, count, ntokens);
    const meta = META_COMMANDS[name];
    if (meta !== undefined) return this.#parseMeta(buf, meta, ntokens);

    switch (name) {
      case "delete":
        return this.#parseDelete(buf, ntokens);
      case "incr":
      case "decr": {
        if (ntokens !== 4 && ntokens !== 5) return invalid("ERROR");
        const noreply = this.#lastIsNoreply(buf, ntokens);
        if (this.#tokenLength(1) > KEY_MAX_LENGTH) {
          return invalid("BAD_COMMAND_LINE_FORMAT", noreply);
        }
        const delta = parseU64(buf, this.#starts[2], this.#ends[2]);
        if (delta === undefined) return invalid("INVALID_DELTA", noreply);
        return { type: "arithmetic", command: name, key: this.#token(buf, 1), delta, noreply };
      }
      case "touch": {
        if (ntokens !== 4 && ntokens !== 5) return invalid("ERROR");
        const noreply = this.#lastIsNoreply(buf, ntokens);
        if (this.#tokenLength(1) > KEY_MAX_LENGTH) {
          return invalid("BAD_COMMAND_LINE_FORMAT", noreply);
        }
        const exptime = parseI32(buf, this.#starts[2], this.#ends[2]);
        if (exptime === undefined) return invalid("INVALID_EXPTIME", noreply);
        return { type: "touch", key: this.#token(buf, 1), exptime, noreply };
      }
      case "flush_all": {
        if (ntokens < 2 || ntokens > 4) return invalid("ERROR");
        const noreply = this.#lastIsNoreply(buf, ntokens);
        let delay = 0;
        if (ntokens !== (noreply ? 3 : 2)) {
          const parsed = parseI32(buf, this.#starts[1], this.#ends[1]);
          if (parsed === undefined) return invalid("INVALID_EXPTIME", noreply);
          delay = parsed;
        }
        return { type: "flush_all", delay, noreply };
      }
      case "stats":
        return { type: "stats", args: this.#strings(buf, 1, ntokens) };
      case "version":
        return { type: "version" };
      case "quit":
        return { type: "quit" };
      case "shutdown":
        return { type: "shutdown", args: this.#strings(buf, 1, ntokens) };
      case "verbosity": {
        if (ntokens !== 3 && ntokens !== 4) return invalid("ERROR");
        const noreply = this.#lastIsNoreply(buf, ntokens);
        const level = parseU32(buf, this.#starts[1], this.#ends[1]);
        if (level < 0) return invalid("BAD_COMMAND_LINE_FORMAT", noreply);
        return { type: "verbosity", level, noreply };
      }
      case "refresh_certs":
        return { type: "refresh_certs", noreply: this.#lastIsNoreply(buf, ntokens) };
      case "cache_memlimit": {
        if (ntokens !== 3 && ntokens !== 4) return invalid("ERROR");
        const megabytes = parseU32(buf, this.#starts[1], this.#ends[1]);
        return { type: "cache_memlimit", megabytes, noreply: this.#lastIsNoreply(buf, ntokens) };
      }
      case "slabs":
        return { type: "slabs", args: this.#strings(buf, 1, ntokens) };
      case "lru_crawler":
      case "watch":
        return { type: name, args: this.#strings(buf, 1, ntokens) };
      default:
        return this.#unknown(buf, name, ntokens);
    }
  }

  /**
   * ERROR, but where memcached's dispatch reaches its last branch and the last token starts
   * with `HTTP/` it hangs up: a browser or a forged POST cannot run its headers or body.
   */
  #unknown(buf: Uint8Array, name: string, ntokens: number): Request {
    const first = name.charCodeAt(0);
    // memcached answers ERROR from its earlier branches: m?, g*, s*, a*, c*, i*, d*, t*.
    const earlier = (first === 0x6d && name.length === 2) || FIRST_LETTER_BRANCHES.has(first) ||
      MEMCACHED_ONLY.has(name);
    if (!earlier && startsWith(buf, this.#starts[ntokens - 2], this.#ends[ntokens - 2], HTTP_)) {
      throw new ProtocolError(`Cannot parse request: "${name}" is an HTTP request line`);
    }
    return invalid("ERROR");
  }

  #parseStorage(
    buf: Uint8Array,
    command: StorageCommand,
    ntokens: number,
    next: number,
  ): Request | undefined {
    const input = this.#in;
    const isCas = command === "cas";
    if (isCas ? ntokens !== 7 && ntokens !== 8 : ntokens !== 6 && ntokens !== 7) {
      input.skip(next - input.start);
      return invalid("ERROR");
    }
    const noreply = this.#lastIsNoreply(buf, ntokens);
    const keyLength = this.#tokenLength(1);
    const flags = parseU32(buf, this.#starts[2], this.#ends[2]);
    const exptime = parseI32(buf, this.#starts[3], this.#ends[3]);
    const length = parseI32(buf, this.#starts[4], this.#ends[4]);
    const cas = isCas ? parseU64(buf, this.#starts[5], this.#ends[5]) : 0n;
    if (
      keyLength > KEY_MAX_LENGTH || flags < 0 || exptime === undefined || length === undefined ||
      cas === undefined || length < 0 || length > 0x7fff_fffd
    ) {
      input.skip(next - input.start);
      return invalid("BAD_COMMAND_LINE_FORMAT", noreply);
    }
    const tooLarge = itemSize(keyLength, flags, length, this.#useCas) > this.#maxItemSize;
    if (!this.#dataBlock(next, length, tooLarge)) return undefined;
    const refused = this.#swallow > 0;
    const request: StorageRequest = {
      type: "storage",
      command,
      key: this.#token(buf, 1),
      flags,
      exptime,
      cas,
      noreply,
      data: this.#data,
      status: this.#status,
    };
    if (!refused) return request;
    // memcached answers (and counts) a refused set once it has skipped the data; the buffer moves on.
    this.#refused = { ...request, key: request.key.slice() };
    return this.next();
  }

  #parseRetrieval(
    buf: Uint8Array,
    command: RetrievalCommand,
    count: number,
    ntokens: number,
  ): Request {
    if (ntokens < 3) return invalid("ERROR");
    let first = 1;
    let exptime = 0;
    if (command === "gat" || command === "gats") {
      const parsed = parseI32(buf, this.#starts[1], this.#ends[1]);
      if (parsed === undefined) return invalid("INVALID_EXPTIME");
      exptime = parsed;
      first = 2;
    }
    const keys: Uint8Array[] = [];
    let badKey = false;
    for (let i = first; i < count; i++) {
      if (this.#tokenLength(i) > KEY_MAX_LENGTH) {
        badKey = true;
        break;
      }
      keys.push(this.#token(buf, i));
    }
    return { type: "retrieval", command, keys, exptime, badKey };
  }

  #parseDelete(buf: Uint8Array, ntokens: number): Request {
    if (ntokens < 3 || ntokens > 5) return invalid("ERROR");
    let noreply = false;
    if (ntokens > 3) {
      const holdIsZero = this.#tokenLength(2) === 1 && buf[this.#starts[2]] === 0x30;
      noreply = this.#lastIsNoreply(buf, ntokens);
      const valid = (ntokens === 4 && (holdIsZero || noreply)) ||
        (ntokens === 5 && holdIsZero && noreply);
      if (!valid) return invalid("BAD_DELETE_FORMAT", noreply);
    }
    if (this.#tokenLength(1) > KEY_MAX_LENGTH) return invalid("BAD_COMMAND_LINE_FORMAT", noreply);
    return { type: "delete", key: this.#token(buf, 1), noreply };
  }

  #parseMeta(buf: Uint8Array, command: MetaCommand, ntokens: number): Request {
    if (command === "mn") {
      return {
        type: "meta",
        command,
        key: EMPTY,
        flags: [],
        data: EMPTY,
        status: "ok",
        tokenCount: ntokens,
      };
    }
    if (ntokens < 3) return invalid(command === "me" ? "BAD_COMMAND_LINE_FORMAT" : "ERROR");
    if (this.#tokenLength(1) > KEY_MAX_LENGTH) return invalid("BAD_COMMAND_LINE_FORMAT");
    return {
      type: "meta",
      command,
      key: this.#token(buf, 1),
      flags: this.#tokens(buf, 2, ntokens),
      data: EMPTY,
      status: "ok",
      tokenCount: ntokens,
    };
  }

  #tokens(buf: Uint8Array, from: number, ntokens: number): Uint8Array[] {
    const tokens: Uint8Array[] = [];
    for (let i = from; i < ntokens - 1; i++) tokens.push(this.#token(buf, i));
    return tokens;
  }

  /** `ms <key> <datalen> <flag>*` and its data block; consumes the line only with its data. */
  #parseMetaSet(buf: Uint8Array, ntokens: number, next: number): Request | undefined {
    const input = this.#in;
    const refuse = (reply: ReplyName): InvalidRequest => {
      input.skip(next - input.start);
      return invalid(reply);
    };
    if (ntokens < 3) return refuse("ERROR");
    if (this.#tokenLength(1) > KEY_MAX_LENGTH || ntokens === 3) {
      return refuse("BAD_COMMAND_LINE_FORMAT");
    }
    if (ntokens > META_MAX_TOKENS) return refuse("META_OPTIONS_TOO_LONG");
    const length = parseI32(buf, this.#starts[2], this.#ends[2]);
    if (length === undefined || length < 0 || length > 0x7fff_fffd) {
      return refuse("BAD_COMMAND_LINE_FORMAT");
    }
    const key = this.#token(buf, 1);
    const flags = this.#tokens(buf, 3, ntokens);
    const size = itemSize(metaKeyLength(key, flags), metaFlags(flags), length, this.#useCas);
    const tooLarge = size > this.#maxItemSize;
    if (!this.#dataBlock(next, length, tooLarge)) return undefined;
    const refused = this.#swallow > 0;
    const request: MetaRequest = {
      type: "meta",
      command: "ms",
      key,
      flags,
      data: this.#data,
      status: this.#status,
      tokenCount: ntokens,
    };
    if (!refused) return request;
    this.#refused = { ...request, key: key.slice(), flags: flags.map((f) => f.slice()) };
    return this.next();
  }

  /**
   * Reads the data block of `length` bytes after the line that ends at
   * `next`. Returns false while it is not all buffered, consuming nothing;
   * else consumes the line and the block and sets #data and #status. A block
   * refused as too large, or for want of budget, is skipped as it arrives,
   * never buffered (#swallow is then set).
   */
  #dataBlock(next: number, length: number, tooLarge: boolean): boolean {
    const input = this.#in;
    const dataEnd = next + length;
    const waiting = !tooLarge && input.end < dataEnd + 2;
    // Only a block that must wait for more bytes takes from the budget: a whole one is used at once.
    const noMemory = waiting && this.#held === 0 && this.#budget !== undefined &&
      !this.#budget.take(length + 2);
    if (tooLarge || noMemory) {
      input.skip(next - input.start);
      this.#swallow = length + 2;
      this.#data = EMPTY;
      this.#status = tooLarge ? "too_large" : "no_memory";
      return true;
    }
    if (waiting) {
      if (this.#budget !== undefined) this.#held = length + 2;
      this.#dataWanted = dataEnd + 2 - input.end;
      input.reserve(this.#dataWanted);
      return false;
    }
    this.#giveBack();
    const buf = input.buf;
    input.skip(dataEnd + 2 - input.start);
    const ok = buf[dataEnd] === CR && buf[dataEnd + 1] === LF;
    this.#data = ok ? buf.subarray(next, dataEnd) : EMPTY;
    this.#status = ok ? "ok" : "bad_chunk";
    return true;
  }

  #giveBack(): void {
    if (this.#held === 0) return;
    this.#budget!.give(this.#held);
    this.#held = 0;
  }
}

/** The key length memcached checks an `ms` item with: decoded when the `b` flag is given. */
function metaKeyLength(key: Uint8Array, flags: Uint8Array[]): number {
  if (!flags.some((f) => f.length === 1 && f[0] === 0x62)) return key.length;
  let padding = 0;
  if (key.length > 0 && key[key.length - 1] === 0x3d) padding++;
  if (key.length > 1 && key[key.length - 2] === 0x3d) padding++;
  return Math.floor(key.length / 4) * 3 - padding;
}

/** The client flags of an `ms` (its `F` flag), 0 when absent or unreadable. */
function metaFlags(flags: Uint8Array[]): number {
  for (const f of flags) {
    if (f[0] === 0x46) return Math.max(0, parseU32(f, 1, f.length));
  }
  return 0;
}

function startsWith(buf: Uint8Array, at: number, end: number, word: number[]): boolean {
  if (end - at < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

function equals(buf: Uint8Array, start: number, end: number, word: number[]): boolean {
  return end - start === word.length && startsWith(buf, start, end, word);
}
