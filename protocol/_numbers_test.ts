import assert from "node:assert/strict";
import { bytes } from "../tests/_feed.ts";
import {
  decimalLength,
  parseDecimal,
  parseDecimalU64,
  parseI32,
  parseU32,
  parseU64,
  writeDecimal,
} from "./_numbers.ts";

function u32(text: string): number {
  const b = bytes(text);
  return parseU32(b, 0, b.length);
}
function i32(text: string): number | undefined {
  const b = bytes(text);
  return parseI32(b, 0, b.length);
}
function u64(text: string): bigint | undefined {
  const b = bytes(text);
  return parseU64(b, 0, b.length);
}

Deno.test("parseU32 accepts what memcached's safe_strtoul accepts and truncates to 32 bits", () => {
  assert.equal(u32("0"), 0);
  assert.equal(u32("4294967295"), 4294967295);
  assert.equal(u32("4294967297"), 1);
  assert.equal(u32("+7"), 7);
  assert.equal(u32("-0"), 0);
  assert.equal(u32("\t12"), 12);
  assert.equal(u32("12\r"), 12);
  assert.equal(u32("18446744073709551615"), 4294967295);
});

Deno.test("parseU32 rejects signs, junk and overflow as memcached does", () => {
  for (const text of ["", "-1", "-4294967296", "abc", "1a", "18446744073709551616", "+", " "]) {
    assert.equal(u32(text), -1, text);
  }
});

Deno.test("parseI32 reads a signed number and keeps its low 32 bits", () => {
  assert.equal(i32("-1"), -1);
  assert.equal(i32("2147483647"), 2147483647);
  assert.equal(i32("2147483648"), -2147483648);
  assert.equal(i32("4294967301"), 5);
  assert.equal(i32("-4294967296"), 0);
  assert.equal(i32("9223372036854775807"), -1);
  assert.equal(i32("-9223372036854775808"), 0);
  assert.equal(i32("9223372036854775808"), undefined);
  assert.equal(i32("1.5"), undefined);
  assert.equal(i32(""), undefined);
});

Deno.test("parseU64 reads 64-bit unsigned numbers with glibc's negative wrap", () => {
  assert.equal(u64("18446744073709551615"), 18446744073709551615n);
  assert.equal(u64("18446744073709551616"), undefined);
  assert.equal(u64("-1"), undefined);
  assert.equal(u64("-18446744073709551615"), 1n);
  assert.equal(u64("9223372036854775808"), 9223372036854775808n);
  assert.equal(u64("000000000000000000000042"), 42n);
  assert.equal(u64("x"), undefined);
});

Deno.test("parseDecimal takes digits only", () => {
  const b = bytes("12345 -1 1x");
  assert.equal(parseDecimal(b, 0, 5), 12345);
  assert.equal(parseDecimal(b, 6, 8), -1);
  assert.equal(parseDecimal(b, 9, 11), -1);
  assert.equal(parseDecimal(b, 0, 0), -1);
  const big = bytes("18446744073709551615");
  assert.equal(parseDecimalU64(big, 0, big.length), 18446744073709551615n);
  const over = bytes("18446744073709551616");
  assert.equal(parseDecimalU64(over, 0, over.length), undefined);
});

Deno.test("writeDecimal writes numbers and bigints as their decimal digits", () => {
  for (const value of [0, 7, 10, 4294967295, Number.MAX_SAFE_INTEGER, 0n, 18446744073709551615n]) {
    const out = new Uint8Array(24);
    const end = writeDecimal(out, 2, value);
    assert.equal(String.fromCharCode(...out.subarray(2, end)), String(value));
    assert.equal(decimalLength(value), String(value).length);
  }
});
