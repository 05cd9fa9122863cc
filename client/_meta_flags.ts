/**
 * Meta flags from the named options of `client/meta.ts`, and the tokens of
 * meta replies back into fields. No sockets here.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import type { MetaResponse } from "../protocol/response_parser.ts";
import type {
  MetaArithmeticOptions,
  MetaDeleteOptions,
  MetaGetOptions,
  MetaGetResult,
  MetaSetOptions,
} from "./meta.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MAX_SECONDS = 0x7fff_ffff;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/** A flag with its token, as bytes. */
function flag(letter: string, token: string | number | bigint = ""): Uint8Array {
  return encoder.encode(letter + token);
}

function seconds(command: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < -MAX_SECONDS - 1 || value > MAX_SECONDS) {
    throw new RangeError(`Cannot ${command}: ${name} ${value} is not a whole number of seconds`);
  }
  return value;
}

function u64(command: string, name: string, value: number | bigint): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`Cannot ${command}: ${name} ${value} is not an integer`);
  }
  if (typeof value !== "number" && typeof value !== "bigint") {
    throw new TypeError(`Cannot ${command}: ${name} is a ${typeof value}, not an integer`);
  }
  const big = BigInt(value);
  if (big < 0n || big > MAX_U64) {
    throw new RangeError(`Cannot ${command}: ${name} ${value} is outside 0..2^64-1`);
  }
  return big;
}

function cas(command: string, value: bigint): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`Cannot ${command}: cas is a ${typeof value}, not a bigint`);
  }
  return u64(command, "cas", value);
}

function opaque(command: string, value: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length === 0 || bytes.length > 32 || bytes.some((b) => b <= 0x20 || b === 0x7f)) {
    throw new TypeError(
      `Cannot ${command}: opaque "${value}" is not 1..32 bytes without spaces or control characters`,
    );
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = 0x4f; // O
  out.set(bytes, 1);
  return out;
}

/** The `mg` flags for `options`; `f` comes with `v`, so the value can be decoded. */
export function metaGetFlags(options: MetaGetOptions): Uint8Array[] {
  const command = "metaGet";
  const flags: Uint8Array[] = [];
  const value = options.value ?? true;
  if (value) flags.push(flag("v"));
  if (value || options.clientFlags) flags.push(flag("f"));
  if (options.cas) flags.push(flag("c"));
  if (options.ttl) flags.push(flag("t"));
  if (options.size) flags.push(flag("s"));
  if (options.hit) flags.push(flag("h"));
  if (options.lastAccess) flags.push(flag("l"));
  if (options.noLruBump) flags.push(flag("u"));
  if (options.touch !== undefined) flags.push(flag("T", seconds(command, "touch", options.touch)));
  if (options.vivifyOnMiss !== undefined) {
    flags.push(flag("N", seconds(command, "vivifyOnMiss", options.vivifyOnMiss)));
  }
  if (options.recacheBelow !== undefined) {
    flags.push(flag("R", seconds(command, "recacheBelow", options.recacheBelow)));
  }
  if (options.opaque !== undefined) flags.push(opaque(command, options.opaque));
  return flags;
}

const MODES = { set: "S", add: "E", replace: "R", append: "A", prepend: "P" } as const;

/** The `ms` flags for `options` and a value's client flags. */
export function metaSetFlags(options: MetaSetOptions, clientFlags: number): Uint8Array[] {
  const command = "metaSet";
  const flags: Uint8Array[] = [];
  const mode = options.mode ?? "set";
  const letter = MODES[mode];
  if (letter === undefined) throw new TypeError(`Cannot ${command}: unknown mode "${mode}"`);
  if (mode !== "set") flags.push(flag("M", letter));
  if (mode !== "append" && mode !== "prepend") flags.push(flag("F", clientFlags));
  if (options.ttl !== undefined) flags.push(flag("T", seconds(command, "ttl", options.ttl)));
  if (options.cas !== undefined) flags.push(flag("C", cas(command, options.cas)));
  if (options.invalidate) {
    if (options.cas === undefined) {
      throw new TypeError(`Cannot ${command}: invalidate needs a cas token`);
    }
    flags.push(flag("I"));
  }
  if (options.returnCas) flags.push(flag("c"));
  if (options.opaque !== undefined) flags.push(opaque(command, options.opaque));
  return flags;
}

/** The `md` flags for `options`. */
export function metaDeleteFlags(options: MetaDeleteOptions): Uint8Array[] {
  const command = "metaDelete";
  const flags: Uint8Array[] = [];
  if (options.cas !== undefined) flags.push(flag("C", cas(command, options.cas)));
  if (options.invalidate) flags.push(flag("I"));
  if (options.ttl !== undefined) {
    // memcached deletes the item and ignores T without I.
    if (!options.invalidate) throw new TypeError(`Cannot ${command}: ttl needs invalidate`);
    flags.push(flag("T", seconds(command, "ttl", options.ttl)));
  }
  if (options.opaque !== undefined) flags.push(opaque(command, options.opaque));
  return flags;
}

/** The `ma` flags for `options`; `v` always, so the reply carries the new value. */
export function metaArithmeticFlags(options: MetaArithmeticOptions): Uint8Array[] {
  const command = "metaArithmetic";
  const flags: Uint8Array[] = [flag("v")];
  const mode = options.mode ?? "increment";
  if (mode !== "increment" && mode !== "decrement") {
    throw new TypeError(`Cannot ${command}: unknown mode "${mode}"`);
  }
  if (mode === "decrement") flags.push(flag("M", "D"));
  if (options.delta !== undefined) flags.push(flag("D", u64(command, "delta", options.delta)));
  if (options.vivifyOnMiss !== undefined) {
    flags.push(flag("N", seconds(command, "vivifyOnMiss", options.vivifyOnMiss)));
  }
  if (options.initial !== undefined) {
    if (options.vivifyOnMiss === undefined) {
      throw new TypeError(`Cannot ${command}: initial needs vivifyOnMiss`);
    }
    flags.push(flag("J", u64(command, "initial", options.initial)));
  }
  if (options.ttl !== undefined) flags.push(flag("T", seconds(command, "ttl", options.ttl)));
  if (options.cas !== undefined) flags.push(flag("C", cas(command, options.cas)));
  if (options.returnCas) flags.push(flag("c"));
  if (options.returnTtl) flags.push(flag("t"));
  if (options.opaque !== undefined) flags.push(opaque(command, options.opaque));
  return flags;
}

/** The return flags of a meta reply, by letter: the fields of a `MetaGetResult` but the value. */
export type MetaTokens = Omit<MetaGetResult<unknown>, "value">;

function bad(frame: MetaResponse, token: Uint8Array): never {
  throw new ProtocolError(
    `Cannot read ${frame.code} reply: bad flag "${decoder.decode(token)}"`,
  );
}

/** The decimal after a flag's letter, with an optional leading `-`. */
function decimal(frame: MetaResponse, token: Uint8Array): bigint {
  let i = 1;
  const negative = token[1] === 0x2d;
  if (negative) i++;
  if (i === token.length || token.length > 22) bad(frame, token);
  let n = 0n;
  for (; i < token.length; i++) {
    const d = token[i] - 0x30;
    if (d < 0 || d > 9) bad(frame, token);
    n = n * 10n + BigInt(d);
  }
  if (n > MAX_U64) bad(frame, token);
  return negative ? -n : n;
}

/** Reads the tokens of a meta reply; unknown letters (`k`, `b`) are skipped. */
export function readTokens(frame: MetaResponse): MetaTokens {
  const tokens: MetaTokens = { win: false, stale: false, alreadyWon: false };
  for (const token of frame.flags) {
    switch (token[0]) {
      case 0x63: // c
        tokens.cas = decimal(frame, token);
        break;
      case 0x66: // f
        tokens.clientFlags = Number(decimal(frame, token));
        break;
      case 0x74: // t
        tokens.ttl = Number(decimal(frame, token));
        break;
      case 0x73: // s
        tokens.size = Number(decimal(frame, token));
        break;
      case 0x68: // h
        tokens.hit = decimal(frame, token) !== 0n;
        break;
      case 0x6c: // l
        tokens.lastAccess = Number(decimal(frame, token));
        break;
      case 0x4f: // O
        tokens.opaque = decoder.decode(token.subarray(1));
        break;
      case 0x57: // W
        tokens.win = true;
        break;
      case 0x58: // X
        tokens.stale = true;
        break;
      case 0x5a: // Z
        tokens.alreadyWon = true;
        break;
    }
  }
  return tokens;
}
