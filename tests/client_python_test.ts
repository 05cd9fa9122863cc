/**
 * The client and python-memcached (Debian's python3-memcache) sharing three
 * servers weighted 1, 2, 1: keys one writes, the other reads, each found on
 * the server python-memcached chose, with text, integers, bytes and
 * compressed values round-tripping both ways.
 */

import assert from "node:assert/strict";
import { Client } from "../client/mod.ts";
import { serve } from "./_layer.ts";
import { DEBIAN_PYTHON, hasMemcached, hasPythonModule } from "./_peers.ts";
import { startReference } from "./_servers.ts";

/** Keys written each way; the full 10,000 of the issue run in well under 10 s here. */
const KEY_COUNT = 10_000;
const MIN_COMPRESS_LEN = 100;

/** Writes (`write`) or reads and checks (`read`) the keys; prints {key: port chosen}. */
const PYTHON = `
import json, sys
import memcache

mode, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ports = [int(p) for p in sys.argv[4:7]]
mc = memcache.Client([("127.0.0.1:%d" % ports[0], 1), ("127.0.0.1:%d" % ports[1], 2),
                      ("127.0.0.1:%d" % ports[2], 1)])

def value(i):
    kind = i % 4
    if kind == 0:
        return "text \\u00e9 %d" % i
    if kind == 1:
        return i * 1000 - 7
    if kind == 2:
        return b"bytes\\x00\\xff" + str(i).encode()
    return ("long %d " % i) * 30

keys = ["%s:%d" % (prefix, i) for i in range(count)]
if mode == "write":
    failed = mc.set_multi({k: value(i) for i, k in enumerate(keys)}, min_compress_len=${MIN_COMPRESS_LEN})
    assert failed == [], "set_multi failed for %d keys" % len(failed)
else:
    got = mc.get_multi(keys)
    bad = [k for i, k in enumerate(keys) if got.get(k) != value(i)]
    assert not bad, "%d of %d keys differ, first %s: %r" % (len(bad), count, bad[0], got.get(bad[0]))
chosen = {}
for k in keys:
    server, _ = mc._get_server(k.encode())
    chosen[k] = server.port
print(json.dumps(chosen))
`;

const encoder = new TextEncoder();

function expected(i: number): unknown {
  switch (i % 4) {
    case 0:
      return `text é ${i}`;
    case 1:
      return i * 1000 - 7;
    case 2:
      return new Uint8Array([...encoder.encode("bytes"), 0, 0xff, ...encoder.encode(String(i))]);
    default:
      return `long ${i} `.repeat(30);
  }
}

async function python(
  mode: "write" | "read",
  prefix: string,
  ports: number[],
): Promise<Record<string, number>> {
  const out = await new Deno.Command(DEBIAN_PYTHON, {
    args: ["-c", PYTHON, mode, prefix, String(KEY_COUNT), ...ports.map(String)],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  assert.equal(out.code, 0, decoder.decode(out.stderr));
  return JSON.parse(decoder.decode(out.stdout));
}

/** Asks each server on its own which keys it holds; gives key → port. */
async function holders(ports: number[], keys: string[]): Promise<Map<string, number>> {
  const held = new Map<string, number>();
  for (const port of ports) {
    await using one = new Client([`127.0.0.1:${port}`]);
    for (const key of Object.keys(await one.getMulti(keys))) {
      assert.equal(held.get(key), undefined, `${key} is on two servers`);
      held.set(key, port);
    }
  }
  return held;
}

function weighted(ports: number[]): Client {
  return new Client(
    [`127.0.0.1:${ports[0]}`, [`127.0.0.1:${ports[1]}`, 2], `127.0.0.1:${ports[2]}`],
    // Debian's python-memcached (1.59) hashes 0 to 1.
    { legacyZeroHash: true, minCompressLen: MIN_COMPRESS_LEN },
  );
}

function ours(): Promise<{ ports: number[] } & AsyncDisposable> {
  const servers = [serve({ port: 0 }), serve({ port: 0 }), serve({ port: 0 })];
  return Promise.resolve({
    ports: servers.map((s) => s.addr.port),
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map((s) => s.close()));
    },
  });
}

async function reference(): Promise<{ ports: number[] } & AsyncDisposable> {
  const servers = await Promise.all([startReference(), startReference(), startReference()]);
  return {
    ports: servers.map((s) => s.port),
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
    },
  };
}

const TARGETS: [string, () => Promise<{ ports: number[] } & AsyncDisposable>, () => boolean][] = [
  ["our servers", ours, () => true],
  ["Debian's memcached", reference, hasMemcached],
];

for (const [name, start, available] of TARGETS) {
  Deno.test({
    name: `Client reads what python-memcached wrote, on the server python chose (${name})`,
    ignore: !hasPythonModule("memcache") || !available(),
    async fn() {
      await using cluster = await start();
      const chosen = await python("write", "py", cluster.ports);
      const keys = Object.keys(chosen);
      assert.equal(keys.length, KEY_COUNT);
      await using client = weighted(cluster.ports);
      const got = await client.getMulti(keys);
      keys.forEach((key, i) => assert.deepEqual(got[key], expected(i), key));
      for (let i = 0; i < 40; i++) assert.deepEqual(await client.get(keys[i]), expected(i));
      const held = await holders(cluster.ports, keys);
      for (const key of keys) assert.equal(held.get(key), chosen[key], key);
      const counts = cluster.ports.map((p) => keys.filter((k) => chosen[k] === p).length);
      // Weights 1, 2, 1: the middle server takes about half.
      assert.ok(counts[1] > counts[0] && counts[1] > counts[2], String(counts));
    },
  });

  Deno.test({
    name: `python-memcached reads what the client wrote, on the server it would choose (${name})`,
    ignore: !hasPythonModule("memcache") || !available(),
    async fn() {
      await using cluster = await start();
      await using client = weighted(cluster.ports);
      const keys = Array.from({ length: KEY_COUNT }, (_, i) => `deno:${i}`);
      assert.deepEqual(await client.setMulti(keys.map((k, i) => [k, expected(i)] as const)), []);
      const chosen = await python("read", "deno", cluster.ports);
      const held = await holders(cluster.ports, keys);
      for (const key of keys) assert.equal(held.get(key), chosen[key], key);
    },
  });
}
