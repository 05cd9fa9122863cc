// Numbers read from digit bytes, with the exact acceptance rules of
// memcached's safe_strtoul / safe_strtol / safe_strtoull (glibc strtoul and
// friends underneath): leading white space and a sign are allowed, the digits
// must end at the token's end or at white space, and an out-of-range value is
// rejected. memcached then truncates to 32 bits where it stores 32 bits, and so
// do these.

const MINUS = 0x2d;
const PLUS = 0x2b;
const U64_LIMIT = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;

/** C's isspace: space, \t, \n, \v, \f, \r. */
export function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/** Whether the token holds a '-' anywhere (memcached's strchr check). */
function hasMinus(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === MINUS) return true;
  return false;
}

interface Scan {
  negative: boolean;
  /** Index of the first digit, or -1 when there is none. */
  first: number;
  /** Index one past the last digit. */
  last: number;
}

const scan: Scan = { negative: false, first: -1, last: -1 };

/** Finds sign and digits as strtoul does; false unless the digits end the token or meet white space. */
function scanDigits(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && isSpace(buf[i])) i++;
  scan.negative = false;
  if (i < end && (buf[i] === MINUS || buf[i] === PLUS)) {
    scan.negative = buf[i] === MINUS;
    i++;
  }
  const first = i;
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  if (i === first) return false;
  if (i < end && !isSpace(buf[i])) return false;
  scan.first = first;
  scan.last = i;
  return true;
}

/** The magnitude of the scanned digits; exact, as a bigint when long. */
function magnitude(buf: Uint8Array): number | bigint {
  let { first } = scan;
  const { last } = scan;
  while (first < last - 1 && buf[first] === 0x30) first++;
  if (last - first <= 15) {
    let value = 0;
    for (let i = first; i < last; i++) value = value * 10 + buf[i] - 0x30;
    return value;
  }
  let value = 0n;
  for (let i = first; i < last; i++) value = value * 10n + BigInt(buf[i] - 0x30);
  return value;
}

/**
 * safe_strtoul: an unsigned number, stored in 32 bits. Returns -1 when
 * memcached would reject the token.
 */
export function parseU32(buf: Uint8Array, start: number, end: number): number {
  if (!scanDigits(buf, start, end)) return -1;
  const m = magnitude(buf);
  if (typeof m === "number") {
    if (scan.negative && m !== 0) return -1;
    return m % 0x1_0000_0000;
  }
  if (m > U64_LIMIT) return -1;
  let value = scan.negative ? (-m) & U64_LIMIT : m;
  if (value > I64_MAX && hasMinus(buf, start, end)) return -1;
  value &= 0xffff_ffffn;
  return Number(value);
}

/**
 * safe_strtol: a signed number, stored in 32 bits. Returns undefined when
 * memcached would reject the token.
 */
export function parseI32(buf: Uint8Array, start: number, end: number): number | undefined {
  if (!scanDigits(buf, start, end)) return undefined;
  const m = magnitude(buf);
  if (typeof m === "number") return (scan.negative ? -m : m) | 0;
  if (scan.negative ? m > I64_MAX + 1n : m > I64_MAX) return undefined;
  return Number(BigInt.asIntN(32, scan.negative ? -m : m));
}

/**
 * safe_strtoull: an unsigned 64-bit number. Returns undefined when memcached
 * would reject the token.
 */
export function parseU64(buf: Uint8Array, start: number, end: number): bigint | undefined {
  if (!scanDigits(buf, start, end)) return undefined;
  const raw = magnitude(buf);
  const m = typeof raw === "number" ? BigInt(raw) : raw;
  if (m > U64_LIMIT) return undefined;
  const value = scan.negative ? (-m) & U64_LIMIT : m;
  if (value > I64_MAX && hasMinus(buf, start, end)) return undefined;
  return value;
}

/**
 * A plain decimal number as servers write them in replies: digits only, no
 * sign or white space, at most `maxDigits` long. Returns -1 otherwise.
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  if (start === end || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** A plain decimal 64-bit unsigned number as servers write it. Returns undefined otherwise. */
export function parseDecimalU64(buf: Uint8Array, start: number, end: number): bigint | undefined {
  if (start === end || end - start > 20) return undefined;
  if (end - start <= 15) {
    const n = parseDecimal(buf, start, end);
    return n < 0 ? undefined : BigInt(n);
  }
  let value = 0n;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return undefined;
    value = value * 10n + BigInt(d);
  }
  return value > U64_LIMIT ? undefined : value;
}

const DIGITS = new Uint8Array(20);

/** Writes a non-negative integer (number or bigint) as decimal digits at `offset`; returns the new offset. */
export function writeDecimal(target: Uint8Array, offset: number, value: number | bigint): number {
  if (typeof value === "number" && value < 10) {
    target[offset] = 0x30 + value;
    return offset + 1;
  }
  let n = 0;
  if (typeof value === "number") {
    while (value > 0) {
      const q = Math.floor(value / 10);
      DIGITS[n++] = 0x30 + (value - q * 10);
      value = q;
    }
  } else {
    if (value === 0n) DIGITS[n++] = 0x30;
    while (value > 0n) {
      DIGITS[n++] = 0x30 + Number(value % 10n);
      value /= 10n;
    }
  }
  while (n > 0) target[offset++] = DIGITS[--n];
  return offset;
}

/** How many bytes `writeDecimal` writes for a non-negative integer. */
export function decimalLength(value: number | bigint): number {
  if (typeof value === "number") {
    let n = 1;
    while (value >= 10) {
      value = Math.floor(value / 10);
      n++;
    }
    return n;
  }
  return value.toString().length;
}
