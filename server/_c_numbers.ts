/**
 * C's number readers as memcached's command line uses them (`atoi`, `atof`,
 * `strtol` and memcached's `safe_strto*`), so a value reads the same here.
 *
 * @module
 */

const SPACE = "[\\t\\n\\v\\f\\r ]*";
const LEADING_INT = new RegExp(`^${SPACE}([+-]?\\d*)`);
const LEADING_FLOAT = new RegExp(`^${SPACE}([+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)`);
const WHOLE_INT = new RegExp(`^${SPACE}([+-]?\\d+)(?:[\\t\\n\\v\\f\\r ].*)?$`, "s");

/** C's atoi: leading white space, a sign, digits; 0 when there are none; 32-bit wrap. */
export function atoi(text: string): number {
  const digits = LEADING_INT.exec(text)?.[1] ?? "";
  const value = Number.parseInt(digits, 10);
  return Number.isNaN(value) ? 0 : Number(BigInt.asIntN(32, BigInt(digits)));
}

/** C's atof on a decimal: the leading number, 0 when there is none. */
export function atof(text: string): number {
  const number = LEADING_FLOAT.exec(text)?.[1];
  return number === undefined ? 0 : Number(number);
}

/** C's strtol(text, NULL, 8): leading octal digits, 0 when there are none. */
export function strtolOctal(text: string): number {
  const digits = /^[\t\n\v\f\r ]*([+-]?[0-7]*)/.exec(text)?.[1] ?? "";
  const value = Number.parseInt(digits, 8);
  return Number.isNaN(value) ? 0 : value;
}

/** memcached's safe_strtol: a whole token, 32-bit; undefined when it refuses. */
export function safeStrtol(text: string): number | undefined {
  const match = WHOLE_INT.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return value >= -0x8000_0000 && value <= 0x7fff_ffff ? value : undefined;
}

/** memcached's safe_strtoul: a whole token, no negatives, kept in 32 bits; undefined when it refuses. */
export function safeStrtoul(text: string): number | undefined {
  const match = WHOLE_INT.exec(text);
  if (match === null) return undefined;
  const value = BigInt(match[1]);
  // strtoul wraps a minus sign round 2^64, which memcached then catches as negative.
  if (value < 0n && value >= -(2n ** 63n)) return undefined;
  if (value >= 2n ** 64n || value <= -(2n ** 64n)) return undefined;
  return Number(BigInt.asUintN(32, value));
}

/** memcached's safe_strtod: a whole decimal token; undefined when it refuses. */
export function safeStrtod(text: string): number | undefined {
  const number = LEADING_FLOAT.exec(text);
  if (number === null) return undefined;
  const rest = text.slice(number[0].length);
  return rest === "" || /^[\t\n\v\f\r ]/.test(rest) ? Number(number[1]) : undefined;
}
