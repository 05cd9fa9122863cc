/**
 * UDP (`-U`) with raw datagrams, ours beside memcached: the same frame
 * headers and replies, a large value split the same way, multi-datagram
 * requests and bare headers dropped.
 *
 * @module
 */

import { ourServerArgs } from "./_layer.ts";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { freePort, hasMemcached, startMemcached } from "./_peers.ts";
import { startOurServer } from "./_servers.ts";

const enc = new TextEncoder();

/** Each exchange: the request's 8-byte header and payload. */
const SCRIPT: [number[], string][] = [
  [[0, 7, 0, 0, 0, 1, 0, 0], "set a 0 0 1\r\nA\r\nset b 5 0 1\r\nB\r\n"],
  [[1, 2, 0, 0, 0, 1, 0, 0], "get a zz b\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "get zz\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "get a zz\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "get zz a\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "mg zz v\r\nmn\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], `set big 0 0 3000\r\n${"x".repeat(3000)}\r\n`],
  [[0, 8, 0, 0, 0, 1, 0, 0], "gets big a\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "get a"],
  [[0, 9, 0, 0, 0, 2, 0, 0], "get b\r\n"],
  [[0, 9, 0, 3, 0, 1, 1, 1], "get b\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "bogus\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], "set d 0 0 1 noreply\r\nD\r\nget d\r\n"],
  [[0, 7, 0, 0, 0, 1, 0, 0], ""],
];

/** Sends each request and collects the datagrams that come back within 200 ms. */
async function run(port: number): Promise<string[][]> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const got: Uint8Array[] = [];
  socket.on("message", (m: Uint8Array) => got.push(new Uint8Array(m)));
  const transcript: string[][] = [];
  try {
    for (const [header, payload] of SCRIPT) {
      got.length = 0;
      const body = enc.encode(payload);
      const datagram = new Uint8Array(8 + body.length);
      datagram.set(header);
      datagram.set(body, 8);
      socket.send(datagram, port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 200));
      transcript.push(
        got.map((g) =>
          `[${g.subarray(0, 8).join(",")}] ${new TextDecoder().decode(g.subarray(8))}`
        ),
      );
    }
  } finally {
    socket.close();
  }
  return transcript;
}

Deno.test("-U: raw datagrams get memcached's frames and replies, split into 1400-byte datagrams", async () => {
  const udp = freePort();
  await using _ours = await startOurServer(["-U", String(udp)]);
  const transcript = await run(udp);
  // Checked by itself too, so it holds where memcached is missing.
  assert.deepEqual(transcript[1], [
    "[1,2,0,0,0,1,0,0] VALUE a 0 1\r\nA\r\n",
    "[1,2,0,0,0,1,0,0] VALUE b 5 1\r\nB\r\nEND\r\n",
  ]);
  assert.deepEqual(transcript[7].map((d) => d.slice(0, 17)), [
    "[0,8,0,0,0,3,0,0]",
    "[0,8,0,1,0,3,0,0]",
    "[0,8,0,2,0,3,0,0]",
    "[0,8,0,0,0,1,0,0]",
  ]);
  // A partial line and a request of two datagrams get nothing; sequence and reserved bytes are not read.
  assert.deepEqual(transcript.slice(8, 10), [[], []]);
  assert.deepEqual(transcript[10], ["[0,9,0,0,0,1,0,0] VALUE b 5 1\r\nB\r\nEND\r\n"]);
  if (!hasMemcached()) return;
  const theirUdp = freePort();
  await using _theirs = await startMemcached(["-U", String(theirUdp)]);
  const reference = await run(theirUdp);
  // The cas uniques of one run differ from the other's by how many stores each made: none here.
  assert.deepEqual(transcript, reference);
});

Deno.test("-U 0 serves no UDP, and a bad port is refused at start", async () => {
  const udp = freePort();
  await using ours = await startOurServer(["-U", "0"]);
  assert.ok(ours.port > 0);
  const socket = dgram.createSocket("udp4");
  const got: Uint8Array[] = [];
  socket.on("message", (m: Uint8Array) => got.push(m));
  socket.on("error", () => got.push(new Uint8Array(0)));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  socket.send(
    new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, ...enc.encode("version\r\n")]),
    udp,
    "127.0.0.1",
  );
  await new Promise((r) => setTimeout(r, 200));
  socket.close();
  assert.equal(got.filter((g) => g.length > 0).length, 0);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ourServerArgs("-U", "70000"),
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 64);
  // Without -p memcached takes the UDP port for TCP too, and refuses it as such.
  assert.equal(new TextDecoder().decode(out.stderr), "ERROR: Invalid port number 70000.\n");
});
