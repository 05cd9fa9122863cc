/**
 * Where encoders put bytes. {@linkcode WriteBuffer} is the growable one a
 * connection appends a whole batch of frames to before one write.
 *
 * @module
 */

import { decimalLength, writeDecimal } from "./_numbers.ts";

/** Receives the parts of frames in order. */
export interface ByteSink {
  /** Appends bytes. */
  bytes(bytes: Uint8Array): void;
  /** Appends a Latin-1 string, one byte per character. */
  latin1(text: string): void;
  /** Appends a non-negative integer in decimal. */
  decimal(value: number | bigint): void;
  /** Appends one byte. */
  byte(value: number): void;
}

/** Counts what a frame would take, so it can be allocated once. */
export class LengthCounter implements ByteSink {
  /** Bytes counted so far. */
  length = 0;
  /** Counts bytes. */
  bytes(bytes: Uint8Array): void {
    this.length += bytes.length;
  }
  /** Counts a Latin-1 string. */
  latin1(text: string): void {
    this.length += text.length;
  }
  /** Counts a decimal number. */
  decimal(value: number | bigint): void {
    this.length += decimalLength(value);
  }
  /** Counts one byte. */
  byte(): void {
    this.length++;
  }
}

/**
 * A growable output buffer: frames are appended, then the filled part is
 * written to the socket at once and the buffer reused.
 *
 * @example Batching two replies into one write
 * ```ts
 * import assert from "node:assert/strict";
 * import { REPLY, WriteBuffer } from "@x/memcache/protocol";
 *
 * const out = new WriteBuffer();
 * out.bytes(REPLY.STORED);
 * out.bytes(REPLY.END);
 * assert.equal(new TextDecoder().decode(out.view()), "STORED\r\nEND\r\n");
 * out.clear();
 * ```
 */
export class WriteBuffer implements ByteSink {
  #buf: Uint8Array;
  #length = 0;

  /**
   * Creates an empty buffer.
   *
   * @param capacity The initial size in bytes.
   */
  constructor(capacity = 16 * 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  /** How many bytes are filled. */
  get length(): number {
    return this.#length;
  }

  /**
   * The filled bytes, as a view valid until the next append or clear.
   *
   * @returns The view.
   */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  /**
   * Drops the bytes past `length`, keeping those before it.
   *
   * @param length How many bytes to keep; at most the current length.
   */
  truncate(length: number): void {
    if (length < this.#length) this.#length = Math.max(0, length);
  }

  /** Forgets the filled bytes, keeping the memory up to 1 MiB: a large reply's buffer is given back. */
  clear(): void {
    this.#length = 0;
    if (this.#buf.length > 1024 * 1024) this.#buf = new Uint8Array(16 * 1024);
  }

  /**
   * Frees the memory at once, for a writer that is done: a dropped buffer
   * would wait for a garbage collection, which an idle server may never run.
   * Views handed out are emptied; the buffer grows again if written to.
   */
  release(): void {
    this.#length = 0;
    (this.#buf.buffer as ArrayBuffer).transfer(0);
    this.#buf = new Uint8Array(0);
  }

  /**
   * Room for `n` more bytes at the end, growing by doubling.
   *
   * @param n How many bytes will be written.
   * @returns The buffer and the offset to write at; call {@linkcode WriteBuffer.advance} after.
   */
  reserve(n: number): Uint8Array {
    const need = this.#length + n;
    if (need > this.#buf.length) {
      let size = Math.max(this.#buf.length * 2, 64);
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, this.#length));
      this.#buf = grown;
    }
    return this.#buf;
  }

  /**
   * Marks `n` bytes written after a {@linkcode WriteBuffer.reserve}.
   *
   * @param n How many bytes were written.
   */
  advance(n: number): void {
    this.#length += n;
  }

  /**
   * Appends bytes.
   *
   * @param bytes The bytes.
   */
  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /**
   * Appends a Latin-1 string.
   *
   * @param text The string; each character becomes one byte.
   */
  latin1(text: string): void {
    const buf = this.reserve(text.length);
    let at = this.#length;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  /**
   * Appends a non-negative integer in decimal.
   *
   * @param value The integer.
   */
  decimal(value: number | bigint): void {
    // Room for the longest number is checked cheaply; the exact length only near the end.
    const room = this.#buf.length - this.#length;
    const buf = room >= 20 ? this.#buf : this.reserve(decimalLength(value));
    this.#length = writeDecimal(buf, this.#length, value);
  }

  /**
   * Appends one byte.
   *
   * @param value The byte.
   */
  byte(value: number): void {
    this.reserve(1)[this.#length++] = value;
  }
}

/** Encodes a frame into exactly-sized bytes: one pass to count, one allocation, one pass to write. */
export function encodeWith<T>(write: (sink: ByteSink, frame: T) => void, frame: T): Uint8Array {
  const counter = new LengthCounter();
  write(counter, frame);
  const out = new WriteBuffer(counter.length);
  write(out, frame);
  return out.view();
}
