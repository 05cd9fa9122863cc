/**
 * Keys as memcached's log and dump lines write them (util.c's uriencode),
 * so a key with spaces, controls or high bytes stays one token.
 *
 * @module
 */

/** Each byte as memcached's uriencode writes it: letters, digits and `-._~` as they are, else `%XX`. */
const ENCODED: string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /^[A-Za-z0-9._~-]$/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
});

/**
 * A key as memcached's uriencode writes it: every byte but letters, digits
 * and `-._~` as `%XX`.
 */
export function uriEncode(key: Uint8Array): string {
  let text = "";
  for (let i = 0; i < key.length; i++) text += ENCODED[key[i]];
  return text;
}
