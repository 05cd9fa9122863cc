/**
 * memcached's own `memcached-tool` (Debian ships it with memcached) against
 * our server and against Debian's memcached, both holding the same items:
 * each mode must print the same report, once the figures that describe the
 * process rather than the cache (see `MASKED_STATS`) are set aside.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hasPeer } from "./_peers.ts";
import { exchange, type ServerProcess, startReference } from "./_servers.ts";
import {
  HAS_MEMCACHED,
  MASKED_STATS,
  OURS_ONLY_STATS,
  startOurs,
  warmUp,
} from "./_differential.ts";

const TOOL = "/usr/share/memcached/scripts/memcached-tool";
const HAS_TOOL = HAS_MEMCACHED && hasPeer("memcached", "perl", ["-c", TOOL]);

/** Items in three classes, some fetched, one deleted, one counted by stats sizes. */
const LOAD = "stats sizes_enable\r\n" +
  Array.from({ length: 30 }, (_, i) => {
    const value = "v".repeat([10, 300, 3000][i % 3]);
    return `set key:${i} ${i} 0 ${value.length}\r\n${value}\r\n`;
  }).join("") + "get key:1 key:2 key:99\r\ndelete key:4\r\nincr key:7 1\r\n";

async function load(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`${LOAD}version\r\n`));
    let text = "";
    const buf = new Uint8Array(65536);
    // Every reply is in once the version line is.
    while (!text.includes("VERSION ")) {
      const n = await conn.read(buf);
      if (n === null) {
        throw new Error(`Cannot load the server: closed after ${JSON.stringify(text)}`);
      }
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

/** Runs memcached-tool against a server, killed after 20 s so a hung report fails instead. */
async function run(port: number, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command("perl", {
    args: [TOOL, `127.0.0.1:${port}`, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `memcached-tool ${args.join(" ")}: ${err}`);
  return { stdout: new TextDecoder().decode(stdout), stderr: err };
}

async function tool(server: ServerProcess, mode: string): Promise<string> {
  const { stdout } = await run(server.port, [mode]);
  return stdout.replaceAll(`127.0.0.1:${server.port}`, "<addr>");
}

/** A `stats`/`settings`/`sizes` report without the masked fields. */
function fields(report: string): string[] {
  return report.split("\n").filter((line) => {
    const name = line.trim().split(/\s+/)[0];
    return !MASKED_STATS.has(name) && !OURS_ONLY_STATS.has(name);
  });
}

/** A `display` report with its Max_age column, a clock reading, masked. */
function display(report: string): string {
  return report.replace(/ +\d+s /g, " <age>s ");
}

Deno.test({
  name: "memcached-tool display, stats, settings and sizes report on ours as on memcached",
  ignore: !HAS_TOOL,
  async fn(t) {
    await using reference = await startReference([]);
    await using ours = await startOurs([]);
    await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
    await Promise.all([load(reference.port), load(ours.port)]);
    for (const mode of ["display", "stats", "settings", "sizes"]) {
      await t.step(mode, async () => {
        const [theirs, mine] = await Promise.all([tool(reference, mode), tool(ours, mode)]);
        if (mode === "display") {
          assert.match(theirs, /^ +\d+ +\S+ +\d+s +1 +\d+/m, theirs);
          assert.equal(display(mine), display(theirs));
        } else {
          assert.ok(theirs.split("\n").length > 3, theirs);
          assert.deepEqual(fields(mine), fields(theirs));
        }
      });
    }
  },
});

/** Whether our server answers `lru_crawler metadump all`, which `dump` and `keys` read. */
async function oursHasMetadump(): Promise<boolean> {
  await using ours = await startOurs([]);
  await warmUp(ours.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: ours.port });
  try {
    await conn.write(new TextEncoder().encode("lru_crawler metadump all\r\n"));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    return n !== null && !new TextDecoder().decode(buf.subarray(0, n)).startsWith("ERROR");
  } finally {
    conn.close();
  }
}

const HAS_METADUMP = HAS_TOOL && await oursHasMetadump();
if (HAS_TOOL && !HAS_METADUMP) {
  console.warn("skipped: memcached-tool dump and keys need lru_crawler metadump from our server");
}

/** `keys` lines sorted, with the access time, cas and any absolute exptime masked. */
function keyLines(report: string): string[] {
  return report.split("\n").filter((line) => line !== "").map((line) =>
    line.replace(/ la=\d+/, " la=<t>").replace(/ cas=\d+/, " cas=<c>").replace(
      / exp=(?!-1 )\d+/,
      " exp=<t>",
    )
  ).sort();
}

/** `dump` records (an add line and its value) sorted, as the tool prints them in hash order. */
function dumpRecords(report: string): string[] {
  const records: string[] = [];
  const line = /add (\S+) (\d+) (\d+) (\d+)\r\n/y;
  for (let at = 0; at < report.length;) {
    line.lastIndex = at;
    const match = line.exec(report);
    if (match === null) {
      throw new Error(`Cannot read the dump at ${JSON.stringify(report.slice(at))}`);
    }
    const [head, key, flags, exptime, length] = match;
    const value = report.slice(at + head.length, at + head.length + Number(length));
    // An absolute exptime is a clock reading; 0 is no exptime.
    records.push(`${key} ${flags} ${exptime === "0" ? "0" : "<t>"} ${value}`);
    at += head.length + Number(length) + 2;
  }
  return records.sort();
}

Deno.test({
  name: "memcached-tool dump and keys list the same items from ours as from memcached",
  ignore: !HAS_METADUMP,
  async fn(t) {
    await using reference = await startReference([]);
    await using ours = await startOurs([]);
    await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
    await Promise.all([load(reference.port), load(ours.port)]);
    await t.step("keys", async () => {
      const [theirs, mine] = await Promise.all([tool(reference, "keys"), tool(ours, "keys")]);
      assert.equal(keyLines(theirs).length, 29, theirs);
      assert.deepEqual(keyLines(mine), keyLines(theirs));
    });
    await t.step("dump", async () => {
      const [theirs, mine] = await Promise.all([tool(reference, "dump"), tool(ours, "dump")]);
      assert.equal(dumpRecords(theirs).length, 29, theirs);
      assert.deepEqual(dumpRecords(mine), dumpRecords(theirs));
    });
  },
});

/** Keys that need escapes, flags, an exptime, a fetched item, one of a larger class, an expired one. */
const ESCAPES = [
  "set plain 0 0 5\r\nhello\r\n",
  "set with%percent 7 0 3\r\nabc\r\n",
  "set ctl\x01byte\xe9 0 0 1\r\nc\r\n",
  "set slash/and:colon 0 3600 2\r\nhi\r\n",
  `set large 3 0 3000\r\n${"L".repeat(3000)}\r\n`,
  "set gone 0 -1 1\r\nx\r\n",
  "get plain\r\n",
].join("");

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

Deno.test({
  name: "memcached-tool keys and dump escape, expire and fetch alike on ours and memcached",
  ignore: !HAS_METADUMP,
  async fn() {
    await using reference = await startReference([]);
    await using ours = await startOurs([]);
    await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
    await Promise.all([
      exchange(reference.port, latin1(ESCAPES)),
      exchange(ours.port, latin1(ESCAPES)),
    ]);
    const [theirKeys, myKeys] = await Promise.all([tool(reference, "keys"), tool(ours, "keys")]);
    assert.deepEqual(keyLines(myKeys), keyLines(theirKeys));
    assert.equal(keyLines(myKeys).length, 5, myKeys);
    assert.match(myKeys, /^key=ctl%01byte%E9 exp=-1 la=\d+ cas=\d+ fetch=no cls=1 size=\d+$/m);
    assert.match(myKeys, /^key=plain exp=-1 la=\d+ cas=\d+ fetch=yes cls=1 size=\d+$/m);
    // The tool decodes each key and gets its value by it; the dump is latin-1 bytes.
    const [theirDump, myDump] = await Promise.all([tool(reference, "dump"), tool(ours, "dump")]);
    assert.deepEqual(dumpRecords(myDump), dumpRecords(theirDump));
    assert.match(myDump, /^add slash\/and:colon 0 \d+ 2\r\nhi\r\n/m);
  },
});

Deno.test({
  name: "memcached-tool keys and dump with a limit stop after that many keys on ours",
  ignore: !HAS_METADUMP,
  async fn() {
    await using ours = await startOurs([]);
    await warmUp(ours.port);
    await load(ours.port);
    const keys = await run(ours.port, ["keys", "2"]);
    assert.equal(keys.stdout.split("\n").filter((l) => l.startsWith("key=")).length, 2);
    assert.equal(keys.stderr, "Dumping memcache keys (limiting to 2 keys)\n");
    const dump = await run(ours.port, ["dump", "2"]);
    assert.equal(dump.stdout.match(/^add /gm)?.length, 2);
    // The tool hangs up mid-dump; the server still answers the next client.
    assert.equal(
      new TextDecoder().decode(await exchange(ours.port, latin1("get key:0\r\n"))),
      "VALUE key:0 0 10\r\nvvvvvvvvvv\r\nEND\r\n",
    );
  },
});
