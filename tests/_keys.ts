/**
 * Deterministic test data shared by the placement and fuzz tests.
 *
 * @module
 */

/** mulberry32: a small seeded generator in [0, 1), so a failure replays exactly. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

/**
 * `count` distinct keys as UTF-8 bytes, `fixed` first: ascii words, digits,
 * ':' and '-', printable punctuation, UTF-8, some up to 250 bytes.
 */
export function sampleKeys(count: number, seed: number, fixed: string[] = []): Uint8Array[] {
  const random = seededRandom(seed);
  const pickFrom = (alphabet: string, length: number) =>
    Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  const printable = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join("");
  const keys = new Map<string, Uint8Array>();
  for (const key of fixed) keys.set(key, encoder.encode(key));
  for (let i = 0; keys.size < count; i++) {
    let key: string;
    switch (i % 6) {
      case 0:
        key = `user:${Math.floor(random() * 1e7)}`;
        break;
      case 1:
        key = `session-${pickFrom("0123456789abcdef", 16)}`;
        break;
      case 2:
        key = pickFrom(printable, 1 + Math.floor(random() * 40));
        break;
      case 3:
        key = pickFrom("0123456789", 1 + Math.floor(random() * 12));
        break;
      case 4:
        key = pickFrom("abcdefghijklmnopqrstuvwxyz0123456789:-", 100 + Math.floor(random() * 151));
        break;
      default:
        key = i % 12 === 5 ? `ключ:${i}-キー` : `cache:page:${i}-v${Math.floor(random() * 100)}`;
    }
    const encoded = encoder.encode(key);
    if (encoded.length <= 250) keys.set(key, encoded);
  }
  return [...keys.values()];
}

/** A key's bytes in hex, to hand keys to python intact. */
export function hex(key: Uint8Array): string {
  return Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
}
