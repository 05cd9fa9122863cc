/**
 * python-memcached (Debian's python3-memcache, `import memcache`) pointed at
 * our server: the walkthrough from its README, and its weighted cluster.
 * Each scenario also runs against Debian's memcached, so a failure shows
 * whether memcached itself behaves that way.
 */

import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { DEBIAN_PYTHON, hasMemcached, hasPythonModule } from "./_peers.ts";
import { type ServerProcess, startMany, startOurServer, startReference } from "./_servers.ts";

const PEERS = new URL("./peers/", import.meta.url).pathname;
const decoder = new TextDecoder();

const TARGETS: [string, (args?: string[]) => Promise<ServerProcess>, () => boolean][] = [
  ["our server", startOurServer, () => true],
  ["Debian's memcached", startReference, hasMemcached],
];

/** Runs a script from tests/peers/ under Debian's python; returns its last stdout line as JSON. */
async function runPython(script: string, args: (string | number)[]): Promise<unknown> {
  const out = await new Deno.Command(DEBIAN_PYTHON, {
    args: [PEERS + script, ...args.map(String)],
    stdout: "piped",
    stderr: "piped",
    // A server that stops answering fails the test instead of hanging the run.
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  assert.equal(out.code, 0, `${script} exited ${out.code}:\n${stderr}\n${stdout}`);
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Multi-gets `keys` from one server; returns each found key's flags and value bytes. */
async function rawGet(
  port: number,
  keys: string[],
): Promise<Map<string, { flags: number; value: Uint8Array }>> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = new TextEncoder().encode(`get ${keys.join(" ")}\r\n`);
    for (let sent = 0; sent < request.length;) sent += await conn.write(request.subarray(sent));
    const found = new Map<string, { flags: number; value: Uint8Array }>();
    let buf = new Uint8Array(0);
    let at = 0;
    const chunk = new Uint8Array(64 * 1024);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const eol = buf.indexOf(13, at);
      if (eol >= 0 && eol + 1 < buf.length) {
        const line = decoder.decode(buf.subarray(at, eol));
        if (line === "END") {
          assert.equal(eol + 2, buf.length, "nothing follows END");
          return found;
        }
        const header = /^VALUE (\S+) (\d+) (\d+)$/.exec(line);
        assert.ok(header, `a VALUE line, not ${JSON.stringify(line)}`);
        const end = eol + 2 + Number(header[3]);
        if (buf.length >= end + 2) {
          assert.deepEqual([buf[end], buf[end + 1]], [13, 10], `data of ${header[1]} ends in CRLF`);
          found.set(header[1], { flags: Number(header[2]), value: buf.slice(eol + 2, end) });
          at = end + 2;
          continue;
        }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        conn.read(chunk),
        new Promise<"timeout">((r) =>
          timer = setTimeout(() => r("timeout"), deadline - Date.now())
        ),
      ]);
      clearTimeout(timer);
      if (n === "timeout") break;
      assert.ok(n !== null, `connection closed after ${buf.length} bytes`);
      const grown = new Uint8Array(buf.length + n);
      grown.set(buf);
      grown.set(chunk.subarray(0, n), buf.length);
      buf = grown;
    }
    throw new Error(`Cannot read reply to get: no END after ${buf.length} bytes`);
  } finally {
    conn.close();
  }
}

for (const [name, start, present] of TARGETS) {
  Deno.test({
    name: `python-memcached walkthrough passes against ${name}`,
    ignore: !hasPythonModule("memcache") || !present(),
    async fn() {
      await using server = await start();
      const got = await runPython("python_memcache_walkthrough.py", [server.port]) as Record<
        string,
        unknown
      >;
      // python asserted every step; these are the ones a reader looks for.
      assert.equal(got["add second"], false);
      assert.equal(got["replace missing"], false);
      assert.deepEqual(got["get_multi"], { k1: "v1", k2: "v2", k3: 3 });
      assert.equal(got["get prepended"], "beforev1after");
      assert.deepEqual(
        [got["set counter"], got["incr"], got["incr 10"], got["decr"], got["decr 10"]],
        [true, 778, 788, 787, 777],
      );
      assert.deepEqual(
        [got["buyer1 gets"], got["buyer2 gets"], got["buyer1 cas"], got["buyer2 cas"]],
        [900, 900, true, false],
      );
      assert.equal(got["get product_count"], 899);
      assert.equal(got["get str"], "héllo wörld");
      assert.equal(got["get int"], 42);
      assert.deepEqual(got["get bytes"], [0, 1, 255, 13, 10]);

      // The flags python-memcached chose come back as it stored them.
      const stored = await rawGet(server.port, ["t_str", "t_int", "t_bytes", "big"]);
      assert.equal(stored.get("t_str")?.flags, 16, "str is _FLAG_TEXT");
      assert.equal(stored.get("t_int")?.flags, 2, "int is _FLAG_INTEGER");
      assert.deepEqual(stored.get("t_int")?.value, new TextEncoder().encode("42"));
      assert.equal(stored.get("t_bytes")?.flags, 0, "bytes have no flag");
      assert.deepEqual(stored.get("t_bytes")?.value, new Uint8Array([0, 1, 255, 13, 10]));
      const big = stored.get("big");
      assert.ok(big, "big is stored");
      assert.equal(big.flags, 16 | 8, "big is _FLAG_TEXT | _FLAG_COMPRESSED");
      assert.ok(big.value.length < (got["big length"] as number) / 4, "big is stored compressed");
      const text = decoder.decode(inflateSync(big.value));
      assert.equal(text.length, got["big length"]);
      assert.ok(text.startsWith("line 000000 of a long text\nline 000001"));
    },
  });

  Deno.test({
    name: `python-memcached weighted cluster puts each key only on the server it chose, on ${name}`,
    ignore: !hasPythonModule("memcache") || !present(),
    async fn() {
      await using cluster = await startMany(start, 3);
      const { ports } = cluster;
      const { chosen, counts } = await runPython("python_memcache_cluster.py", ports) as {
        chosen: Record<string, number>;
        counts: number[];
      };
      const keys = Object.keys(chosen);
      assert.equal(keys.length, 200);
      assert.equal(counts.reduce((x, y) => x + y), 200);

      for (const port of ports) {
        // 50 keys a line keeps each request line short of the 2048-byte limit.
        const held = new Map<string, { flags: number; value: Uint8Array }>();
        for (let i = 0; i < keys.length; i += 50) {
          for (const [k, v] of await rawGet(port, keys.slice(i, i + 50))) held.set(k, v);
        }
        const expected = keys.filter((k) => chosen[k] === port);
        assert.deepEqual([...held.keys()].sort(), expected.sort(), `keys held by :${port}`);
        for (const [key, { flags, value }] of held) {
          assert.equal(flags, 16);
          assert.equal(decoder.decode(value), `value of ${key}`);
        }
      }
    },
  });
}
