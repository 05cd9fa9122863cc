/**
 * Values to and from stored bytes, with python-memcached's client flags so
 * that both clients read what the other wrote.
 *
 * @module
 */

import { deflateSync, inflateSync } from "node:zlib";
import { MemcacheError } from "../protocol/errors.ts";

/** python-memcached's `_FLAG_PICKLE`: a Python pickle, which this client cannot decode. */
export const FLAG_PICKLE = 1;
/** python-memcached's `_FLAG_INTEGER`: a decimal integer. */
export const FLAG_INTEGER = 2;
/** python-memcached's `_FLAG_LONG` (Python 2 longs): a decimal integer. */
export const FLAG_LONG = 4;
/** python-memcached's `_FLAG_COMPRESSED`: zlib data, OR-ed with the other flags. */
export const FLAG_COMPRESSED = 8;
/** python-memcached's `_FLAG_TEXT`: UTF-8 text. */
export const FLAG_TEXT = 16;
/**
 * The bit this client sets for values it serialized (JSON by default).
 * python-memcached knows no such bit, so it refuses the value instead of
 * misreading it.
 */
export const FLAG_SERIALIZED = 1 << 8;

/**
 * Turns values that are not bytes, text or integers into bytes and back.
 *
 * @example A serializer that stores Dates as ISO strings
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Serializer, ValueCodec } from "@x/memcache/client";
 *
 * const dates: Serializer = {
 *   serialize: (value) => new TextEncoder().encode((value as Date).toISOString()),
 *   deserialize: (bytes) => new Date(new TextDecoder().decode(bytes)),
 * };
 * const codec = new ValueCodec({ serializer: dates });
 * const { flags, data } = codec.encode(new Date(0));
 * assert.deepEqual(codec.decode(flags, data), new Date(0));
 * ```
 */
export interface Serializer {
  /**
   * Encodes a value.
   *
   * @param value The value: anything but a `Uint8Array`, string or integer.
   * @returns Its bytes.
   */
  serialize(value: unknown): Uint8Array;
  /**
   * Decodes bytes that {@linkcode Serializer.serialize} made.
   *
   * @param bytes The bytes, decompressed; the serializer may keep them.
   * @returns The value.
   */
  deserialize(bytes: Uint8Array): unknown;
}

/**
 * A stored value whose flags this client cannot decode: a Python pickle
 * (flag 1) or flags no client here knows.
 *
 * @example A Python pickle, refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { FLAG_PICKLE, ValueCodec, ValueFlagsError } from "@x/memcache/client";
 *
 * const codec = new ValueCodec();
 * assert.throws(() => codec.decode(FLAG_PICKLE, new Uint8Array([0x80])), ValueFlagsError);
 * ```
 */
export class ValueFlagsError extends MemcacheError {
  /** The stored flags. */
  readonly flags: number;
  /**
   * In a `getMulti`: every other key's value, decoded, so one value that
   * cannot be decoded loses none of them.
   */
  readonly found: Record<string, unknown> | undefined;

  /**
   * Creates an error.
   *
   * @param message What failed, naming the key when known.
   * @param options The stored flags, the key, the other values of a `getMulti`, the cause.
   */
  constructor(message: string, options: ValueFlagsErrorOptions) {
    super(message, { key: options.key, cause: options.cause });
    this.flags = options.flags;
    this.found = options.found;
  }
}

/** What a {@linkcode ValueFlagsError} carries. */
export interface ValueFlagsErrorOptions {
  /** The stored flags. */
  flags: number;
  /**
   * The key, when known.
   *
   * @default {undefined}
   */
  key?: string;
  /**
   * In a `getMulti`, the values of the other keys.
   *
   * @default {undefined}
   */
  found?: Record<string, unknown>;
  /**
   * The error that caused this one.
   *
   * @default {undefined}
   */
  cause?: unknown;
}

/** Options of {@linkcode ValueCodec}. */
export interface ValueCodecOptions {
  /**
   * Compress values longer than this many bytes with zlib, when that makes
   * them smaller (python-memcached's `min_compress_len`); 0 never compresses.
   *
   * @default {0}
   */
  minCompressLen?: number;
  /**
   * How values that are not bytes, text or integers are stored.
   *
   * @default {JSON as UTF-8}
   */
  serializer?: Serializer;
  /**
   * What a value with flags this client cannot decode (a Python pickle)
   * becomes: `"throw"` a {@linkcode ValueFlagsError}, or `"bytes"` its raw,
   * decompressed bytes.
   *
   * @default {"throw"}
   */
  undecodable?: "throw" | "bytes";
}

/** The flags and bytes a value is stored as. */
export interface EncodedValue {
  /** The client flags. */
  flags: number;
  /** The stored bytes. */
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Small byte values are copied into a shared block rather than each into an
// ArrayBuffer of its own, as Node's Buffer pool does: a multi-get of 100
// values then allocates one buffer, not 100.
const POOL_SIZE = 8 * 1024;
let pool = new Uint8Array(POOL_SIZE);
let pooled = 0;

/** A copy of `bytes`; one under 4 KiB is a view into a shared 8 KiB block. */
function copyOut(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n >= POOL_SIZE >>> 1) return bytes.slice();
  if (pooled + n > POOL_SIZE) {
    pool = new Uint8Array(POOL_SIZE);
    pooled = 0;
  }
  const copy = pool.subarray(pooled, pooled + n);
  copy.set(bytes);
  // Keep the next copy 8-byte aligned, so a caller may view it as wider integers.
  pooled = (pooled + n + 7) & ~7;
  return copy;
}

/** JSON as UTF-8 text. */
export const JSON_SERIALIZER: Serializer = {
  serialize(value: unknown): Uint8Array {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new TypeError(`Cannot serialize value: JSON has no form for ${typeof value}`);
    }
    return encoder.encode(text);
  },
  deserialize(bytes: Uint8Array): unknown {
    return JSON.parse(decoder.decode(bytes));
  },
};

/**
 * Encodes values as python-memcached does: `Uint8Array` with flags 0, strings
 * as UTF-8 with flags 16, integers (safe-integer numbers and bigints) in
 * decimal with flags 2, anything else through the serializer with flags 256;
 * zlib compression adds 8. Decoding reverses it, giving integers as a number
 * when it is a safe integer and as a bigint otherwise.
 *
 * @example A string keeps python-memcached's text flag
 * ```ts
 * import assert from "node:assert/strict";
 * import { FLAG_TEXT, ValueCodec } from "@x/memcache/client";
 *
 * const codec = new ValueCodec();
 * const { flags, data } = codec.encode("héllo");
 * assert.equal(flags, FLAG_TEXT);
 * assert.equal(codec.decode(flags, data), "héllo");
 * ```
 */
export class ValueCodec {
  #minCompressLen: number;
  #serializer: Serializer;
  #undecodable: "throw" | "bytes";

  /**
   * Creates a codec.
   *
   * @param options Compression, serializer and what to do with undecodable values.
   * @throws {RangeError} When `minCompressLen` is negative or not an integer.
   */
  constructor(options?: ValueCodecOptions) {
    const min = options?.minCompressLen ?? 0;
    if (!Number.isSafeInteger(min) || min < 0) {
      throw new RangeError(`Cannot use minCompressLen ${min}: expected a non-negative integer`);
    }
    this.#minCompressLen = min;
    this.#serializer = options?.serializer ?? JSON_SERIALIZER;
    this.#undecodable = options?.undecodable ?? "throw";
  }

  /**
   * Encodes a value.
   *
   * @param value The value; `undefined` cannot be stored.
   * @param minCompressLen Overrides the codec's compression threshold.
   * @returns The flags and bytes.
   * @throws {TypeError} For `undefined`, or a value the serializer refuses.
   */
  encode(value: unknown, minCompressLen: number = this.#minCompressLen): EncodedValue {
    let flags: number;
    let data: Uint8Array;
    if (value instanceof Uint8Array) {
      flags = 0;
      data = value;
    } else if (typeof value === "string") {
      flags = FLAG_TEXT;
      data = encoder.encode(value);
    } else if (
      typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value))
    ) {
      // python-memcached never compresses integers.
      return { flags: FLAG_INTEGER, data: encoder.encode(String(value)) };
    } else if (value === undefined) {
      throw new TypeError("Cannot store undefined: it means a miss");
    } else {
      flags = FLAG_SERIALIZED;
      data = this.#serializer.serialize(value);
    }
    if (minCompressLen > 0 && data.length > minCompressLen) {
      const compressed = deflateSync(data);
      if (compressed.length < data.length) {
        flags |= FLAG_COMPRESSED;
        data = new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length);
      }
    }
    return { flags, data };
  }

  /**
   * Decodes stored bytes by their flags. Bytes (flags 0) come back as a
   * copy; one under 4 KiB shares its `ArrayBuffer` with other small values,
   * as Node's pooled Buffers do, so use the view, not its `.buffer`.
   *
   * @param flags The stored flags.
   * @param data The stored bytes; a view the codec copies from, never keeps.
   * @param key The key, for error messages.
   * @returns The value.
   * @throws {ValueFlagsError} For a pickle or unknown flags, unless
   *   `undecodable` is `"bytes"`, or for bad compressed data or a bad integer.
   */
  decode(flags: number, data: Uint8Array, key?: string): unknown {
    let bytes = data;
    let copied = false;
    const what = key === undefined ? "value" : `"${key}"`;
    if (flags & FLAG_COMPRESSED) {
      try {
        const inflated = inflateSync(data);
        bytes = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
        copied = true;
      } catch (cause) {
        throw new ValueFlagsError(`Cannot decode ${what}: its zlib data is corrupt`, {
          flags,
          key,
          cause,
        });
      }
    }
    const kind = flags & ~FLAG_COMPRESSED;
    switch (kind) {
      case 0:
        return copied ? bytes : copyOut(bytes);
      case FLAG_TEXT:
        return decoder.decode(bytes);
      case FLAG_INTEGER:
      case FLAG_LONG: {
        const text = decoder.decode(bytes).trim();
        if (!/^-?\d+$/.test(text)) {
          throw new ValueFlagsError(
            `Cannot decode ${what}: "${text.slice(0, 40)}" is not an integer`,
            { flags, key },
          );
        }
        const n = BigInt(text);
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(n)
          : n;
      }
      case FLAG_SERIALIZED:
        return this.#serializer.deserialize(copied ? bytes : bytes.slice());
      default:
        if (this.#undecodable === "bytes") return copied ? bytes : bytes.slice();
        throw new ValueFlagsError(
          `Cannot decode ${what}: ${
            kind === FLAG_PICKLE ? `flags ${flags} mark a Python pickle` : `unknown flags ${flags}`
          }; the client option undecodable: "bytes" returns its bytes`,
          { flags, key },
        );
    }
  }
}
