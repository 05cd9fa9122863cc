/**
 * Binary-protocol requests (first byte 0x80) to a server that speaks text
 * only: ours answers and closes exactly as Debian's `memcached -B ascii`,
 * which reads them as text lines too.
 */

import assert from "node:assert/strict";
import { hasMemcached, startMemcached } from "./_peers.ts";
import { startOurServer } from "./_servers.ts";
import { play } from "./_socket_fuzz.ts";

/** A binary request header and body: magic 0x80, opcode, key length, extras, body length. */
function binary(opcode: number, key = "", extras = "", value = ""): string {
  const body = extras + key + value;
  const header = [
    0x80,
    opcode,
    key.length >> 8,
    key.length & 0xff,
    extras.length,
    0,
    0,
    0,
    ...[24, 16, 8, 0].map((shift) => (body.length >>> shift) & 0xff),
    ...new Array(12).fill(0),
  ];
  return String.fromCharCode(...header) + body;
}

const GET = binary(0x00, "foo");
const NOOP = binary(0x0a);
const VERSION = binary(0x0b);
const SET = binary(0x01, "k", "\0\0\0\0\0\0\0\0", "v");

/** Each case: the writes, each sent once the server has gone quiet after the one before. */
const CASES: [string, string[]][] = [
  ["a binary get waits for a newline", [GET]],
  ["a binary noop's opcode is a newline: ERROR", [NOOP]],
  ["a binary version waits for a newline", [VERSION]],
  ["a binary get then a newline: one bad line, and text goes on", [GET, "\r\n", "version\r\n"]],
  ["a binary set then a newline", [SET, "\n", "get k\r\n"]],
  ["binary requests back to back", [GET + NOOP + VERSION + SET + NOOP]],
  ["a binary get with 3000 bytes and no newline", [binary(0x00, "x".repeat(3000)), "version\r\n"]],
  ["a lone 0x80 joins the line after it: ERROR", ["\x80", "version\r\n"]],
];

Deno.test({
  name: "Binary-protocol bytes get exactly what memcached -B ascii sends, and close as it does",
  ignore: !hasMemcached(),
  async fn() {
    await using memcached = await startMemcached(["-t", "1", "-B", "ascii"]);
    await using ours = await startOurServer(["-t", "1"]);
    for (const [name, writes] of CASES) {
      const [theirs, mine] = await Promise.all([
        play(memcached.port, writes),
        play(ours.port, writes),
      ]);
      assert.deepEqual(mine, theirs, name);
    }
  },
});
