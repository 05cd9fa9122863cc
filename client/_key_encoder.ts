/**
 * Keys from the caller's strings to the bytes a request carries, checked as
 * python-memcached checks them before anything is sent.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * A multi-get's keys as bytes: `line` holds them with a space between each,
 * as a `get` line carries them, and key i is line[starts[i], starts[i + 1] - 1).
 * The last entry of `starts` is one past the line's end.
 */
export interface KeyBlock {
  /** The keys with a space between each. */
  line: Uint8Array;
  /** Where each key starts in `line`, and one past the line's end. */
  starts: number[];
}

/**
 * Key `i` of `keys`, as a view into its line.
 *
 * @param keys The block.
 * @param i The key's index.
 * @returns The key's bytes.
 */
export function keyAt(keys: KeyBlock, i: number): Uint8Array {
  return keys.line.subarray(keys.starts[i], keys.starts[i + 1] - 1);
}

/**
 * Bytes as Latin-1 text, one character a byte: a key as it went on the wire.
 *
 * @param bytes The bytes.
 * @returns The text.
 */
export function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** The bytes of an ASCII string of up to 250 characters, without a call into the runtime; else undefined. */
function asciiBytes(text: string): Uint8Array | undefined {
  const n = text.length;
  if (n > 250) return undefined;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return undefined;
    bytes[i] = c;
  }
  return bytes;
}

/** Checks keys against the client's `serverMaxKeyLength` and encodes them as UTF-8. */
export class KeyEncoder {
  #maxLength: number;

  /**
   * Creates an encoder.
   *
   * @param maxLength The longest key in bytes, 1 to 250, as the client's settings checked it.
   */
  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /**
   * The bytes of one key.
   *
   * @param key The key.
   * @returns Its UTF-8 bytes.
   * @throws {TypeError} For a key that is not a string, or holds a control character or space.
   * @throws {RangeError} For a key that is empty or over the limit.
   */
  encode(key: string): Uint8Array {
    if (typeof key !== "string") {
      throw new TypeError(`Cannot use key: expected a string, got ${typeof key}`);
    }
    const bytes = asciiBytes(key) ?? encoder.encode(key);
    if (bytes.length === 0 || bytes.length > this.#maxLength) {
      throw new RangeError(
        `Cannot use key: length ${bytes.length} is outside 1..${this.#maxLength} bytes`,
      );
    }
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] <= 0x20 || bytes[i] === 0x7f) {
        throw new TypeError(
          `Cannot use key "${key}": byte ${i} is a control character or space`,
        );
      }
    }
    return bytes;
  }

  /**
   * The bytes of many keys, checked as {@linkcode KeyEncoder.encode} checks
   * them, in one block with a space between each, as a multi-get's request
   * line carries them.
   *
   * @param keys The keys.
   * @returns The block.
   * @throws {TypeError | RangeError} As {@linkcode KeyEncoder.encode}, for the first bad key.
   */
  block(keys: string[]): KeyBlock {
    for (const key of keys) if (typeof key !== "string") return this.#eachKey(keys);
    // One join and one encodeInto, rather than flattening and reading each key string.
    const text = keys.join(" ");
    const line = new Uint8Array(text.length);
    const { read, written } = encoder.encodeInto(text, line);
    if (read !== text.length || written !== text.length) return this.#eachKey(keys);
    const starts: number[] = new Array(keys.length + 1);
    const max = this.#maxLength;
    let at = 0;
    for (let k = 0; k < keys.length; k++) {
      const n = keys[k].length;
      let plain = n > 0 && n <= max;
      for (let i = at; plain && i < at + n; i++) {
        if (line[i] <= 0x20 || line[i] >= 0x7f) plain = false;
      }
      // A bad key, which encode names in its error.
      if (!plain) return this.#eachKey(keys);
      starts[k] = at;
      at += n + 1;
    }
    starts[keys.length] = at;
    return { line, starts };
  }

  /** As `block`, one key at a time: for UTF-8 keys, and for bad keys, which `encode` names. */
  #eachKey(keys: string[]): KeyBlock {
    const each = keys.map((key) => this.encode(key));
    let total = each.length;
    for (const bytes of each) total += bytes.length;
    const line = new Uint8Array(Math.max(total - 1, 0));
    const starts: number[] = new Array(each.length + 1);
    let at = 0;
    for (let k = 0; k < each.length; k++) {
      if (k > 0) line[at - 1] = 0x20;
      line.set(each[k], at);
      starts[k] = at;
      at += each[k].length + 1;
    }
    starts[each.length] = at;
    return { line, starts };
  }
}
