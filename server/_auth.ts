/**
 * The gate before a connection's first command when the server requires
 * ASCII authentication (`-Y`), as memcached 1.6.18's
 * `try_read_command_asciiauth`: until the client authenticates, the only
 * request understood is a `set` whose data is `user password` (its key,
 * flags and exptime ignored). Every other line, meta commands, `quit` and
 * `shutdown` included, is answered `CLIENT_ERROR unauthenticated` and the
 * connection stays open. Once authenticated, a connection stays so: a later
 * `set` is an ordinary set.
 *
 * Byte for byte with memcached, including two of its quirks:
 * - Before authentication memcached answers into one reply object that each
 *   answer overwrites, so of the requests answered between two writes only
 *   the last one's reply is sent. It writes when its read buffer runs dry
 *   and after 21 requests of one read (then after every 20).
 * - It reads into a fixed 16 KB buffer, so an auth `set` whose data does not
 *   fit closes the connection, as do 2049 bytes without a newline.
 *
 * @module
 */

import { parseU32 } from "../protocol/_numbers.ts";
import { LINE_MAX_LENGTH } from "../protocol/limits.ts";
import { REPLY } from "../protocol/replies.ts";
import type { WriteBuffer } from "../protocol/write_buffer.ts";
import type { ServerStats } from "./_stats.ts";
import type { ConnectionInfo } from "./_types.ts";

/** Whether a user and password match the auth file; both are raw bytes. */
export type AuthCheck = (user: Uint8Array, password: Uint8Array) => boolean;

/** memcached's read buffer before authentication (READ_BUFFER_SIZE); it never grows there. */
const BUFFER_SIZE = 16 * 1024;
/** memcached answers this many requests of the first turn of a read before it writes, then one fewer each turn. */
const FIRST_TURN = 21;
const TURN = 20;

const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const SET = [0x73, 0x65, 0x74];

/** One answered request: its reply, and whether it authenticated the connection. */
export interface AuthStep {
  reply: Uint8Array;
  authenticated: boolean;
}

/** What {@linkcode AuthGate.serve} leaves the connection to do. */
export type AuthState = "waiting" | "authenticated" | "close";

/**
 * memcached's tokenizer on a C string: words split on spaces only (a CR
 * stays in the last word), the string ending at its first NUL. Returns the
 * first `max` words as (start, end) pairs.
 */
function tokenize(buf: Uint8Array, start: number, end: number, max: number): number[] {
  const nul = buf.subarray(start, end).indexOf(0);
  if (nul >= 0) end = start + nul;
  const tokens: number[] = [];
  let i = start;
  while (i < end && tokens.length < max * 2) {
    while (i < end && buf[i] === SPACE) i++;
    if (i === end) break;
    const s = i;
    while (i < end && buf[i] !== SPACE) i++;
    tokens.push(s, i);
  }
  return tokens;
}

function isSet(buf: Uint8Array, start: number, end: number): boolean {
  return end - start === 3 && buf[start] === SET[0] && buf[start + 1] === SET[1] &&
    buf[start + 2] === SET[2];
}

/** One connection's requests before it authenticates. */
export class AuthGate {
  #buf = new Uint8Array(BUFFER_SIZE);
  #start = 0;
  #end = 0;
  /** Bytes of an auth `set`'s data block and its CRLF still awaited; -1 while reading a line. */
  #dataLength = -1;
  #check: AuthCheck;
  #stats: ServerStats;

  /**
   * A gate checking credentials with `check` and counting in `stats`.
   *
   * @param check Whether a user and password match the auth file.
   * @param stats Where `auth_cmds` and `auth_errors` are counted.
   */
  constructor(check: AuthCheck, stats: ServerStats) {
    this.#check = check;
    this.#stats = stats;
  }

  /**
   * Room to read into: the free tail of the fixed buffer, after moving the
   * unread bytes to its front. Empty when the buffer is full of an
   * incomplete request, where memcached's next read returns 0 and it closes
   * the connection (having written its replies first).
   */
  reserve(): Uint8Array {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Marks `n` bytes read into the view {@linkcode AuthGate.reserve} gave. */
  commit(n: number): void {
    this.#end += n;
  }

  /** The bytes after the request that authenticated, for the command parser. */
  unread(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /**
   * Answers the next complete request.
   *
   * @returns Its reply, undefined when more bytes are needed, or "close"
   *   when memcached would close the connection.
   */
  next(): AuthStep | "close" | undefined {
    const buf = this.#buf;
    if (this.#dataLength < 0) {
      // "impossible for the auth command to be this short"
      if (this.#end - this.#start < 2) return undefined;
      const newline = buf.subarray(this.#start, this.#end).indexOf(LF);
      if (newline < 0) return this.#end - this.#start > LINE_MAX_LENGTH ? "close" : undefined;
      const lineEnd = this.#start + newline;
      const tokens = tokenize(buf, this.#start, lineEnd, 5);
      this.#start = lineEnd + 1;
      const size = tokens.length >= 10 ? parseU32(buf, tokens[8], tokens[9]) : -1;
      if (size < 0 || !isSet(buf, tokens[0], tokens[1])) {
        return { reply: REPLY.UNAUTHENTICATED, authenticated: false };
      }
      // memcached keeps size + 2 in a 32-bit int: past 2^31 it reads before its buffer and crashes.
      const length = (size + 2) % 0x1_0000_0000;
      if (length >= 0x8000_0000) return "close";
      this.#dataLength = length;
    }
    const length = this.#dataLength;
    if (this.#end - this.#start < length) return undefined;
    const data = this.#start;
    this.#start += length;
    this.#dataLength = -1;
    // A length of 0 or 1 (size near 2^32) checks the bytes before the data, as memcached does.
    if (length < 2 || buf[data + length - 2] !== CR || buf[data + length - 1] !== LF) {
      return { reply: REPLY.BAD_LINE_TERMINATION, authenticated: false };
    }
    const tokens = tokenize(buf, data, data + length - 2, 2);
    if (tokens.length < 4) return { reply: REPLY.BAD_AUTH_TOKEN_FORMAT, authenticated: false };
    const ok = this.#check(
      buf.subarray(tokens[0], tokens[1]),
      buf.subarray(tokens[2], tokens[3]),
    );
    this.#stats.authCmds++;
    if (!ok) this.#stats.authErrors++;
    return ok
      ? { reply: REPLY.STORED, authenticated: true }
      : { reply: REPLY.AUTH_FAILURE, authenticated: false };
  }

  /**
   * Answers every complete request buffered, into `out`, as memcached does:
   * each reply replaces the one not yet written.
   *
   * @param out The connection's reply buffer.
   * @param info The connection, whose `sentMark` says what memcached has written.
   * @returns "authenticated" once a request authenticated the connection (the
   *   bytes after it are in {@linkcode AuthGate.unread}), "close" when
   *   memcached would close it, else "waiting" for more bytes.
   */
  serve(out: WriteBuffer, info: ConnectionInfo): AuthState {
    for (;;) {
      const step = this.next();
      if (step === undefined || step === "close") return step ?? "waiting";
      out.truncate(info.sentMark);
      out.bytes(step.reply);
      const n = ++info.requests;
      if (n === FIRST_TURN || (n > FIRST_TURN && (n - FIRST_TURN) % TURN === 0)) {
        info.sentMark = out.length;
      }
      if (step.authenticated) return "authenticated";
    }
  }
}
