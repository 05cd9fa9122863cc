/**
 * Feeds bytes to a resumable parser in every way the parser tests require:
 * whole, one byte at a time, and split in two at every position.
 *
 * @module
 */

/** A parser with the push/next shape of RequestParser and ResponseParser. */
export interface Resumable<T> {
  push(chunk: Uint8Array): void;
  next(): T | undefined;
}

/** Every way of cutting `bytes` into chunks that the parser tests use, with a name each. */
export function* feedings(bytes: Uint8Array): Generator<[string, Uint8Array[]]> {
  yield ["whole", [bytes]];
  yield ["byte by byte", Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))];
  for (let at = 1; at < bytes.length; at++) {
    yield [`split at ${at}`, [bytes.subarray(0, at), bytes.subarray(at)]];
  }
}

/** A frame with its byte views turned into Latin-1 strings, safe to keep after the next push. */
export function snapshot(value: unknown): unknown {
  if (value instanceof Uint8Array) return String.fromCharCode(...value);
  if (Array.isArray(value)) return value.map(snapshot);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, snapshot(v)]));
  }
  return value;
}

/** Pushes the chunks in order, draining every frame after each, as snapshots. */
export function drain<T>(parser: Resumable<T>, chunks: Uint8Array[]): unknown[] {
  const frames: unknown[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let frame = parser.next(); frame !== undefined; frame = parser.next()) {
      frames.push(snapshot(frame));
    }
  }
  return frames;
}

/** Latin-1 bytes of a string, so tests can write any byte with \x escapes. */
export function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
