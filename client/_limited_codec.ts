/**
 * The value codec as the client uses it: python-memcached's flags, and
 * values over the server's size limit refused before anything is sent.
 *
 * @module
 */

import { type EncodedValue, ValueCodec, type ValueCodecOptions } from "./codec.ts";

/** Options of {@linkcode LimitedCodec}. */
export interface LimitedCodecOptions extends ValueCodecOptions {
  /**
   * The largest value in bytes, after encoding and compression; 0 turns the check off.
   *
   * @default {1048576}
   */
  maxValueLength?: number;
}

/** A {@linkcode ValueCodec} that refuses to encode values over `maxValueLength`. */
export class LimitedCodec extends ValueCodec {
  #maxValueLength: number;

  /**
   * Creates a codec.
   *
   * @param options The codec's options and the size limit.
   * @throws {RangeError} When `minCompressLen` is negative or not an integer.
   */
  constructor(options: LimitedCodecOptions = {}) {
    super(options);
    this.#maxValueLength = options.maxValueLength ?? 1024 * 1024;
  }

  /**
   * Encodes a value, as {@linkcode ValueCodec.encode} does.
   *
   * @param value The value; `undefined` cannot be stored.
   * @param minCompressLen Overrides the codec's compression threshold.
   * @returns The flags and bytes.
   * @throws {TypeError} For `undefined`, or a value the serializer refuses.
   * @throws {RangeError} For a value over the limit once encoded.
   */
  override encode(value: unknown, minCompressLen?: number): EncodedValue {
    const encoded = super.encode(value, minCompressLen);
    if (this.#maxValueLength > 0 && encoded.data.length > this.#maxValueLength) {
      throw new RangeError(
        `Cannot store value: ${encoded.data.length} bytes is over the limit of ${this.#maxValueLength}`,
      );
    }
    return encoded;
  }
}
