/**
 * The meta commands (`mg ms md ma mn me`), answered as memcached 1.6.18's
 * `proto_text.c` answers them: its flag checks and error lines, its quiet
 * mode (only the nominal reply is dropped), and its reply flags in the order
 * the request gave them.
 *
 * @module
 */

import { parseI32, parseU32, parseU64 } from "../protocol/_numbers.ts";
import type { MetaRequest, StorageRequest } from "../protocol/requests.ts";
import type { WriteBuffer } from "../protocol/write_buffer.ts";
import { relativeExptime } from "./clock.ts";
import { base64Decode, base64Encode } from "./_base64.ts";
import type { Store } from "./_store.ts";
import type { StoreStatus } from "./_logger.ts";
import type { ItemView, MetaSetMode, StoreFailure } from "./_types.ts";
import type { ServerStats } from "./_stats.ts";

/** memcached's MFLAG_MAX_OPT_LENGTH: more tokens than this and a meta line is refused. */
const MAX_TOKENS = 20;
/** memcached's MFLAG_MAX_OPAQUE_LENGTH, counting the `O`. */
const MAX_OPAQUE_LENGTH = 32;

const BAD_FORMAT = "CLIENT_ERROR bad command line format";
const BAD_TOKEN = "CLIENT_ERROR bad token in command line format";
const OPAQUE_TOO_LONG = "CLIENT_ERROR opaque token too long";
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

/** What memcached's `_meta_flag_preparse` makes of a meta line's flags. */
interface MetaFlags {
  /** The error line when the flags are refused. */
  error: string | undefined;
  /** The key, base64-decoded when `b` was given. */
  key: Uint8Array;
  keyBinary: boolean;
  noUpdate: boolean;
  /** memcached fetches under the item lock and bumps afterwards (so `h` and `l` see the old state). */
  locked: boolean;
  vivify: boolean;
  value: boolean;
  setStale: boolean;
  noReply: boolean;
  hasCas: boolean;
  newTtl: boolean;
  /** The `M` token's character code, 0 for none. */
  mode: number;
  /** Exptimes as sent on the wire. */
  exptime: number;
  vivifyExptime: number;
  recacheExptime: number;
  clientFlags: number;
  cas: bigint;
  delta: bigint;
  initial: bigint;
}

/** Runs meta requests against the store. */
export class MetaHandler {
  #store: Store;
  #items: ItemView;
  #stats: ServerStats;

  /** Tells the watchers of mutations what an `ms` did, as do_store_item logs it. */
  #logStore: LogStore | undefined;

  constructor(store: Store, stats: ServerStats, logStore?: LogStore) {
    this.#store = store;
    this.#items = store.items;
    this.#stats = stats;
    this.#logStore = logStore;
  }

  /**
   * Runs one meta request, appending its reply (if any) to `out`.
   *
   * @returns Whether memcached writes its buffered replies now (`mn`).
   */
  handle(request: MetaRequest, out: WriteBuffer): boolean {
    switch (request.command) {
      case "mg":
        this.#get(request, out);
        return false;
      case "ms":
        this.#set(request, out);
        return false;
      case "md":
        this.#delete(request, out);
        return false;
      case "ma":
        this.#arithmetic(request, out);
        return false;
      case "me":
        this.#debug(request, out);
        return false;
      case "mn":
        out.latin1("MN\r\n");
        return true;
    }
  }

  #get(request: MetaRequest, out: WriteBuffer): void {
    if (request.tokenCount > MAX_TOKENS) {
      return error(out, "CLIENT_ERROR options flags are too long");
    }
    const f = preparse(request.key, request.flags);
    if (f.error !== undefined) return error(out, f.error);
    const store = this.#store;
    const items = this.#items;
    let slot = store.peek(f.key);
    if (slot >= 0 && !f.locked && !f.noUpdate) store.fetch(slot);
    let created = false;
    if (slot < 0 && f.vivify) {
      slot = store.vivify(f.key, EMPTY);
      created = slot >= 0;
    }
    if (slot < 0) {
      store.countGet(-1, false);
      const mark = out.length;
      out.latin1("EN");
      for (const token of request.flags) {
        if (token[0] === 0x4f /* O */) {
          if (token.length > MAX_OPAQUE_LENGTH) {
            out.truncate(mark);
            return error(out, OPAQUE_TOO_LONG);
          }
          space(out, token);
        } else if (token[0] === 0x6b /* k */) {
          writeKey(out, f.key, f.keyBinary);
        }
      }
      out.bytes(CRLF);
      // Quiet mode drops a miss.
      if (f.noReply) out.truncate(mark);
      return;
    }
    const mark = out.length;
    const now = store.clock.now();
    if (f.value) {
      out.latin1("VA ");
      out.decimal(items.valueLength(slot));
    } else {
      out.latin1("HD");
    }
    let won = false;
    let touched = false;
    for (const token of request.flags) {
      switch (token[0]) {
        case 0x54: // T
          touched = true;
          store.setExptime(slot, f.exptime);
          break;
        case 0x4e: // N
          if (created) {
            store.setExptime(slot, f.vivifyExptime);
            won = true;
          }
          break;
        case 0x52: { // R
          const exptime = items.exptime(slot);
          if (
            !items.tokenSent(slot) && !created && exptime !== 0 &&
            exptime < relativeExptime(f.recacheExptime, store.clock)
          ) {
            won = true;
          }
          break;
        }
        case 0x73: // s
          out.latin1(" s");
          out.decimal(items.valueLength(slot));
          break;
        case 0x74: // t
          out.latin1(" t");
          writeTtl(out, items.exptime(slot), now);
          break;
        case 0x63: // c
          out.latin1(" c");
          out.decimal(items.casUnique(slot));
          break;
        case 0x66: // f
          out.latin1(" f");
          out.decimal(items.flags(slot));
          break;
        case 0x6c: // l
          out.latin1(" l");
          out.decimal((now - items.lastAccess(slot)) >>> 0);
          break;
        case 0x68: // h
          out.latin1(items.fetched(slot) ? " h1" : " h0");
          break;
        case 0x4f: // O
          if (token.length > MAX_OPAQUE_LENGTH) {
            out.truncate(mark);
            return error(out, OPAQUE_TOO_LONG);
          }
          space(out, token);
          break;
        case 0x6b: // k
          writeKey(out, items.key(slot), items.binaryKey(slot));
          break;
      }
    }
    // Z before X, and never W with Z, as memcached orders them.
    if (items.tokenSent(slot)) out.latin1(" Z");
    if (items.stale(slot)) {
      out.latin1(" X");
      if (!items.tokenSent(slot)) won = true;
    }
    if (won) {
      out.latin1(" W");
      store.markTokenSent(slot);
    }
    out.bytes(CRLF);
    if (f.value) {
      out.bytes(items.value(slot));
      out.bytes(CRLF);
    }
    if (f.locked && !f.noUpdate) store.fetch(slot);
    store.countGet(slot, touched);
  }

  #set(request: MetaRequest, out: WriteBuffer): void {
    // The parser has answered the line errors that come before the flags.
    const f = preparse(request.key, request.flags);
    if (f.error !== undefined) return error(out, f.error);
    let failure: string | undefined;
    for (const token of request.flags) {
      if (token[0] === 0x4f && token.length > MAX_OPAQUE_LENGTH) failure = OPAQUE_TOO_LONG;
    }
    const mode = MS_MODES[f.mode];
    if (mode === undefined) return error(out, "CLIENT_ERROR invalid mode for ms M token");
    if (failure !== undefined) return error(out, failure);
    const store = this.#store;
    const items = this.#items;
    const stats = this.#stats;
    // memcached's mset upgrades a set or replace with a cas to a cas.
    const command = f.hasCas && (mode === "set" || mode === "replace") ? "cas" : mode;
    const log = (status: StoreStatus) =>
      this.#logStore?.(
        { command, key: f.key, flags: f.clientFlags, exptime: f.exptime, data: request.data },
        status,
      );
    if (request.status === "too_large") {
      log("too_large");
      stats.storeTooLarge++;
      // memcached drops the old value whatever the mode, so no stale value survives.
      store.discard(f.key);
      return error(out, "SERVER_ERROR object too large for cache");
    }
    if (request.status === "no_memory") {
      log("no_memory");
      stats.storeNoMemory++;
      store.discard(f.key);
      return error(out, "SERVER_ERROR out of memory storing object");
    }
    if (request.status === "bad_chunk") {
      stats.badChunkSets++;
      return error(out, "CLIENT_ERROR bad data chunk");
    }
    const result = store.metaSet(f.key, request.data, {
      mode,
      flags: f.clientFlags,
      exptime: f.exptime,
      cas: f.hasCas ? f.cas : undefined,
      invalidate: f.setStale,
      binaryKey: f.keyBinary,
    });
    if (this.#logStore !== undefined) {
      log(typeof result === "number" ? "stored" : MS_STATUS[result]);
    }
    let code: string;
    switch (result) {
      case "EXISTS":
        code = "EX";
        break;
      case "NOT_FOUND":
        code = "NF";
        break;
      case "NOT_STORED":
        code = "NS";
        break;
      case "TOO_LARGE":
        stats.storeTooLarge++;
        store.discard(f.key);
        return error(out, "SERVER_ERROR object too large for cache");
      case "NO_MEMORY":
        stats.storeNoMemory++;
        store.discard(f.key);
        return error(out, "SERVER_ERROR out of memory storing object");
      default:
        if (f.noReply) return;
        code = "HD";
    }
    out.latin1(code);
    for (const token of request.flags) {
      if (token[0] === 0x4f) {
        space(out, token);
      } else if (token[0] === 0x6b) {
        writeKey(out, f.key, f.keyBinary);
      } else if (token[0] === 0x63) {
        out.latin1(" c");
        out.decimal(typeof result === "number" ? items.casUnique(result) : 0);
      }
    }
    out.bytes(CRLF);
  }

  #delete(request: MetaRequest, out: WriteBuffer): void {
    if (request.tokenCount > MAX_TOKENS) return error(out, "CLIENT_ERROR options flags too long");
    const f = preparse(request.key, request.flags);
    if (f.error !== undefined) return error(out, "CLIENT_ERROR invalid or duplicate flag");
    for (const token of request.flags) {
      if (token[0] === 0x4f && token.length > MAX_OPAQUE_LENGTH) {
        return error(out, OPAQUE_TOO_LONG);
      }
    }
    const result = this.#store.metaDelete(f.key, {
      cas: f.hasCas ? f.cas : undefined,
      invalidate: f.setStale,
      exptime: f.newTtl ? f.exptime : undefined,
    });
    if (result === "DELETED" && f.noReply) return;
    out.latin1(result === "DELETED" ? "HD" : result === "NOT_FOUND" ? "NF" : "EX");
    writeEcho(out, request.flags, f);
    out.bytes(CRLF);
  }

  #arithmetic(request: MetaRequest, out: WriteBuffer): void {
    if (request.tokenCount > MAX_TOKENS) return error(out, "CLIENT_ERROR options flags too long");
    const f = preparse(request.key, request.flags);
    if (f.error !== undefined) return error(out, "CLIENT_ERROR invalid or duplicate flag");
    let incr: boolean;
    switch (f.mode) {
      case 0:
      case 0x49: // I
      case 0x2b: // +
        incr = true;
        break;
      case 0x44: // D
      case 0x2d: // -
        incr = false;
        break;
      default:
        return error(out, "CLIENT_ERROR invalid mode for ma M token");
    }
    const store = this.#store;
    const items = this.#items;
    const result = store.metaDelta(f.key, f.delta, {
      incr,
      cas: f.hasCas ? f.cas : 0n,
      countMiss: !f.vivify,
    });
    let slot = -1;
    let created = false;
    let number = "";
    const mark = out.length;
    if (typeof result === "number") {
      slot = result;
      number = digits(items.value(slot));
    } else if (result === "NON_NUMERIC") {
      return error(out, "CLIENT_ERROR cannot increment or decrement non-numeric value");
    } else if (result === "NO_MEMORY") {
      return error(out, "SERVER_ERROR out of memory");
    } else if (result === "NOT_FOUND" && f.vivify) {
      number = String(f.initial);
      slot = store.vivify(f.key, encoder.encode(number));
      if (slot < 0) return error(out, "SERVER_ERROR Out of memory allocating new item");
      created = true;
    }
    if (slot < 0) {
      out.latin1(result === "EXISTS" ? "EX" : "NF");
      if (!writeEcho(out, request.flags, f)) {
        out.truncate(mark);
        return error(out, OPAQUE_TOO_LONG);
      }
      out.bytes(CRLF);
      return;
    }
    const now = store.clock.now();
    if (f.value) {
      out.latin1("VA ");
      out.decimal(number.length);
    } else {
      out.latin1("HD");
    }
    for (const token of request.flags) {
      switch (token[0]) {
        case 0x63: // c
          out.latin1(" c");
          out.decimal(items.casUnique(slot));
          break;
        case 0x74: // t
          out.latin1(" t");
          writeTtl(out, items.exptime(slot), now);
          break;
        case 0x54: // T
          store.setExptime(slot, f.exptime);
          break;
        case 0x4e: // N
          if (created) store.setExptime(slot, f.vivifyExptime);
          break;
        case 0x4f: // O
          if (token.length > MAX_OPAQUE_LENGTH) {
            out.truncate(mark);
            return error(out, OPAQUE_TOO_LONG);
          }
          space(out, token);
          break;
        case 0x6b: // k
          writeKey(out, f.key, f.keyBinary);
          break;
      }
    }
    if (f.value) {
      out.bytes(CRLF);
      out.latin1(number);
    }
    out.bytes(CRLF);
    // Quiet mode drops a success, though not the reply to an item it created.
    if (f.noReply && !created) out.truncate(mark);
  }

  #debug(request: MetaRequest, out: WriteBuffer): void {
    let key = request.key;
    if (request.tokenCount >= 4 && request.flags[0].length === 1 && request.flags[0][0] === 0x62) {
      const decoded = base64Decode(key);
      if (decoded === undefined) return error(out, BAD_FORMAT);
      key = decoded;
    }
    const store = this.#store;
    const items = this.#items;
    const slot = store.peek(key);
    if (slot < 0) {
      out.latin1("EN\r\n");
    } else {
      const now = store.clock.now();
      const exptime = items.exptime(slot);
      out.latin1("ME ");
      if (items.binaryKey(slot)) out.bytes(base64Encode(items.key(slot)));
      else out.bytes(items.key(slot));
      out.latin1(
        ` exp=${exptime === 0 ? -1 : (now - exptime) | 0} la=${
          (now - items.lastAccess(slot)) >>> 0
        } cas=${items.casUnique(slot)} fetch=${items.fetched(slot) ? "yes" : "no"} cls=${
          items.classId(slot)
        } size=${items.itemSize(slot)}\r\n`,
      );
    }
    this.#stats.cmdMeta++;
  }
}

/** What `ms` can end in, as the watchers' `status=`. */
const MS_STATUS: Record<StoreFailure, StoreStatus> = {
  NOT_STORED: "not_stored",
  EXISTS: "exists",
  NOT_FOUND: "not_found",
  TOO_LARGE: "too_large",
  NO_MEMORY: "no_memory",
};

/** A storage's command, key, flags, exptime and data, with how it ended, for the watchers. */
export type LogStore = (
  request: Pick<StorageRequest, "key" | "flags" | "exptime" | "data"> & { command: string },
  status: StoreStatus,
) => void;

const MS_MODES: Record<number, MetaSetMode> = {
  0: "set",
  0x53: "set", // S
  0x45: "add", // E
  0x41: "append", // A
  0x50: "prepend", // P
  0x52: "replace", // R
};

/** The number an incremented item holds: its value up to the spaces that pad it in place. */
function digits(value: Uint8Array): string {
  const end = value.indexOf(0x20);
  return String.fromCharCode(...(end < 0 ? value : value.subarray(0, end)));
}

function error(out: WriteBuffer, line: string): void {
  out.latin1(line);
  out.bytes(CRLF);
}

function space(out: WriteBuffer, token: Uint8Array): void {
  out.latin1(" ");
  out.bytes(token);
}

/** ` k<key>`, or ` k<base64 key> b` for a key that came in base64. */
function writeKey(out: WriteBuffer, key: Uint8Array, binary: boolean): void {
  out.latin1(" k");
  if (binary) {
    out.bytes(base64Encode(key));
    out.latin1(" b");
  } else {
    out.bytes(key);
  }
}

/** The `O` and `k` echoes of md and ma; false when an opaque is too long. */
function writeEcho(out: WriteBuffer, flags: Uint8Array[], f: MetaFlags): boolean {
  for (const token of flags) {
    if (token[0] === 0x4f) {
      if (token.length > MAX_OPAQUE_LENGTH) return false;
      space(out, token);
    } else if (token[0] === 0x6b) {
      writeKey(out, f.key, f.keyBinary);
    }
  }
  return true;
}

/** Seconds left, -1 for never, wrapping as memcached's unsigned subtraction does. */
function writeTtl(out: WriteBuffer, exptime: number, now: number): void {
  if (exptime === 0) out.latin1("-1");
  else out.decimal((exptime - now) >>> 0);
}

/** memcached's `_meta_flag_preparse`: checks every flag token, keeping its last error. */
function preparse(key: Uint8Array, flags: Uint8Array[]): MetaFlags {
  const f: MetaFlags = {
    error: undefined,
    key,
    keyBinary: false,
    noUpdate: false,
    locked: false,
    vivify: false,
    value: false,
    setStale: false,
    noReply: false,
    hasCas: false,
    newTtl: false,
    mode: 0,
    exptime: 0,
    vivifyExptime: 0,
    recacheExptime: 0,
    clientFlags: 0,
    cas: 0n,
    delta: 1n,
    initial: 0n,
  };
  const seen = new Uint8Array(127);
  let failed = false;
  let errstr = BAD_FORMAT;
  const exptime = (token: Uint8Array): number | undefined => {
    const value = parseI32(token, 1, token.length);
    if (value === undefined) {
      errstr = BAD_TOKEN;
      failed = true;
    }
    return value;
  };
  for (const token of flags) {
    const o = token[0];
    if (o >= 127 || seen[o] !== 0) return refused(f, "CLIENT_ERROR duplicate flag");
    seen[o] = 1;
    switch (o) {
      case 0x62: { // b
        const decoded = base64Decode(f.key);
        if (decoded === undefined) {
          errstr = "CLIENT_ERROR error decoding key";
          failed = true;
        } else {
          f.key = decoded;
        }
        f.keyBinary = true;
        break;
      }
      case 0x4e: // N
        f.locked = true;
        f.vivify = true;
        f.vivifyExptime = exptime(token) ?? 0;
        break;
      case 0x54: { // T
        f.locked = true;
        const value = exptime(token);
        if (value !== undefined) {
          f.exptime = value;
          f.newTtl = true;
        }
        break;
      }
      case 0x52: // R
        f.locked = true;
        f.recacheExptime = exptime(token) ?? 0;
        break;
      case 0x6c: // l
      case 0x68: // h
        f.locked = true;
        break;
      case 0x4f: // O
      case 0x50: // P
      case 0x4c: // L
      case 0x6b: // k
      case 0x73: // s
      case 0x74: // t
      case 0x63: // c
      case 0x66: // f
        break;
      case 0x76: // v
        f.value = true;
        break;
      case 0x75: // u
        f.noUpdate = true;
        break;
      case 0x71: // q
        f.noReply = true;
        break;
      case 0x46: { // F
        const value = parseU32(token, 1, token.length);
        if (value < 0) failed = true;
        else f.clientFlags = value;
        break;
      }
      case 0x43: { // C
        const value = parseU64(token, 1, token.length);
        if (value === undefined) {
          errstr = BAD_TOKEN;
          failed = true;
        } else {
          f.cas = value;
          f.hasCas = true;
        }
        break;
      }
      case 0x4d: // M
        if (token.length !== 2) {
          errstr = "CLIENT_ERROR incorrect length for M token";
          failed = true;
        } else {
          f.mode = token[1];
        }
        break;
      case 0x4a: { // J
        const value = parseU64(token, 1, token.length);
        if (value === undefined) {
          errstr = "CLIENT_ERROR invalid numeric initial value";
          failed = true;
        } else {
          f.initial = value;
        }
        break;
      }
      case 0x44: { // D
        const value = parseU64(token, 1, token.length);
        if (value === undefined) {
          errstr = "CLIENT_ERROR invalid numeric delta value";
          failed = true;
        } else {
          f.delta = value;
        }
        break;
      }
      case 0x49: // I
        f.setStale = true;
        break;
      default:
        return refused(f, "CLIENT_ERROR invalid flag");
    }
  }
  if (failed) f.error = errstr;
  return f;
}

function refused(f: MetaFlags, line: string): MetaFlags {
  f.error = line;
  return f;
}
