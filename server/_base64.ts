/**
 * memcached's base64, for meta keys sent with the `b` flag: its decoder
 * skips bytes outside the alphabet, as memcached's does.
 *
 * @module
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const INVALID = 0x80;
/** memcached's decode table: the alphabet, and `=` as 0; anything else is skipped. */
const DECODE = (() => {
  const table = new Uint8Array(256).fill(INVALID);
  for (let i = 0; i < 64; i++) table[BASE64.charCodeAt(i)] = i;
  table[0x3d] = 0;
  return table;
})();

/** memcached's base64_decode: skips bytes outside the alphabet; undefined where it returns 0. */
export function base64Decode(src: Uint8Array): Uint8Array | undefined {
  let count = 0;
  for (const b of src) if (DECODE[b] !== INVALID) count++;
  if (count === 0 || count % 4 !== 0) return undefined;
  const out = new Uint8Array((count / 4) * 3);
  const block = new Uint8Array(4);
  let pos = 0;
  let n = 0;
  let pad = 0;
  for (const b of src) {
    const v = DECODE[b];
    if (v === INVALID) continue;
    if (b === 0x3d) pad++;
    block[n++] = v;
    if (n === 4) {
      out[pos++] = (block[0] << 2) | (block[1] >> 4);
      out[pos++] = (block[1] << 4) | (block[2] >> 2);
      out[pos++] = (block[2] << 6) | block[3];
      n = 0;
      if (pad > 0) {
        if (pad > 2) return undefined;
        pos -= pad;
        break;
      }
    }
  }
  return pos === 0 ? undefined : out.subarray(0, pos);
}

/** Standard base64 with padding, as memcached's base64_encode. */
export function base64Encode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(src.length / 3) * 4);
  let pos = 0;
  let i = 0;
  for (; i + 3 <= src.length; i += 3) {
    out[pos++] = BASE64.charCodeAt(src[i] >> 2);
    out[pos++] = BASE64.charCodeAt(((src[i] & 3) << 4) | (src[i + 1] >> 4));
    out[pos++] = BASE64.charCodeAt(((src[i + 1] & 15) << 2) | (src[i + 2] >> 6));
    out[pos++] = BASE64.charCodeAt(src[i + 2] & 63);
  }
  if (i < src.length) {
    out[pos++] = BASE64.charCodeAt(src[i] >> 2);
    if (i + 1 === src.length) {
      out[pos++] = BASE64.charCodeAt((src[i] & 3) << 4);
      out[pos++] = 0x3d;
    } else {
      out[pos++] = BASE64.charCodeAt(((src[i] & 3) << 4) | (src[i + 1] >> 4));
      out[pos++] = BASE64.charCodeAt((src[i + 1] & 15) << 2);
    }
    out[pos++] = 0x3d;
  }
  return out;
}
