/**
 * Keys as memcached's log and dump lines write them (util.c's uriencode),
 * so a key with spaces, controls or high bytes stays one token.
 *
 * @module
 */

/** The bytes memcached's uriencode leaves as they are: letters, digits and `-._~`. */
const URI_PLAIN = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  URI_PLAIN[b] = /^[A-Za-z0-9._~-]$/.test(c) ? 1 : 0;
}
const HEX = "0123456789ABCDEF";

/**
 * A key as memcached's uriencode writes it: every byte but letters, digits
 * and `-._~` as `%XX`.
 */
export function uriEncode(key: Uint8Array): string {
  let text = "";
  for (const b of key) {
    text += URI_PLAIN[b] ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return text;
}
