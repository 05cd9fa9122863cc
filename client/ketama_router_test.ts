import assert from "node:assert/strict";
import { hex, sampleKeys } from "../tests/_keys.ts";
import { md5Words } from "./_hash.ts";
import { KetamaRouter, type KetamaRouterOptions } from "./ketama_router.ts";
import type { ServerSpec } from "./router.ts";
import {
  DEBIAN_PYTHON,
  freePort,
  hasMemcached,
  hasPythonModule,
  startMemcached,
} from "../tests/_peers.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const allAlive = () => true;

function keyPoint(key: string): number {
  const words = new Uint32Array(4);
  md5Words(bytes(key), words);
  return words[0];
}

// A few of the ketama compatibility vectors that libmemcached checks in
// test/tests/memcached/ketama.cpp (test/fixtures/ketama.hpp): weighted
// ketama, MD5 key hash, eight servers on port 11211, so labels are `host-i`.
const LIBMEMCACHED_SERVERS: ServerSpec[] = [600, 300, 200, 350, 1000, 800, 950, 100].map((
  weight,
  i,
) => ({ host: `10.0.1.${i + 1}`, port: 11211, weight }));
const LIBMEMCACHED_VECTORS: [string, number, string][] = [
  ["SVa_]_V41)", 443691461, "10.0.1.7"],
  ["*/Z;?V(.\\8", 1422915503, "10.0.1.1"],
  ["30C1*Z*S/_", 1473165754, "10.0.1.2"],
  ["1I=cTMNTKF", 2882686667, "10.0.1.5"],
  ["P1[Ma3=K1/", 1989324036, "10.0.1.8"],
  ["D[HE+cFXDK", 2117036136, "10.0.1.3"],
  ["EM75N0+[X1", 1558531507, "10.0.1.4"],
  ["6,cEI`F_P>", 3972869246, "10.0.1.6"],
  ["726bW=9*a4", 4213440020, "10.0.1.7"],
  ["8*6a;Sc*X+", 4223431086, "10.0.1.2"],
  ["[1ZXONX2]a", 4108881567, "10.0.1.4"],
  ["VD6D0]ba_\\", 3842502950, "10.0.1.1"],
];

Deno.test("KetamaRouter matches libmemcached's ketama vectors for weighted servers on port 11211", () => {
  const router = new KetamaRouter(LIBMEMCACHED_SERVERS);
  for (const [key, point, host] of LIBMEMCACHED_VECTORS) {
    assert.equal(keyPoint(key), point, key);
    assert.equal(LIBMEMCACHED_SERVERS[router.pick(bytes(key), allAlive)].host, host, key);
  }
});

Deno.test("KetamaRouter hashes a key to the first little-endian word of its MD5", () => {
  // libmemcached's wrap-around probe: a point above every continuum point.
  assert.equal(keyPoint("VDEAAAAA"), 0xfffcd1b5);
  assert.equal(keyPoint(""), 0xd98c1dd4); // md5("") = d41d8cd9...
});

Deno.test("KetamaRouter with failover next keeps live servers' keys and skips dead ones", () => {
  const servers: ServerSpec[] = [1, 2, 1].map((weight, i) => ({
    host: "127.0.0.1",
    port: 30001 + i,
    weight,
  }));
  const next = new KetamaRouter(servers, { failover: "next" });
  const none = new KetamaRouter(servers, { failover: "none" });
  const rebuild = new KetamaRouter(servers);
  const alive = (i: number) => i !== 1;
  let moved = 0, rebuiltMoved = 0;
  for (let n = 0; n < 2000; n++) {
    const key = bytes(`key:${n}`);
    const home = next.pick(key, allAlive);
    assert.equal(none.pick(key, allAlive), home);
    assert.equal(rebuild.pick(key, allAlive), home);
    const after = next.pick(key, alive);
    assert.notEqual(after, 1);
    if (home !== 1) assert.equal(after, home);
    else moved++;
    assert.equal(none.pick(key, alive), home === 1 ? -1 : home);
    const rebuilt = rebuild.pick(key, alive);
    assert.notEqual(rebuilt, 1);
    if (home !== 1 && rebuilt !== home) rebuiltMoved++;
  }
  assert.ok(moved > 0);
  // Rebuilding recomputes the live servers' shares, so a few of their keys move.
  assert.ok(rebuiltMoved > 0);
  for (const router of [next, none, rebuild]) {
    assert.equal(router.pick(bytes("x"), () => false), -1);
  }
});

Deno.test("KetamaRouter rejects an empty list, bad weights, bad ports and unknown failover", () => {
  const one = (weight: number, port = 11211) => [{ host: "a", port, weight }];
  assert.throws(() => new KetamaRouter([]), RangeError);
  assert.throws(() => new KetamaRouter(one(0)), RangeError);
  assert.throws(() => new KetamaRouter(one(2 ** 32)), RangeError);
  assert.throws(() => new KetamaRouter(one(1, 70000)), RangeError);
  assert.throws(
    () => new KetamaRouter(one(1), { failover: "random" } as unknown as KetamaRouterOptions),
    { message: `Cannot route keys: failover "random" is not "rebuild", "next" or "none"` },
  );
});

/** Deterministic keys: ascii, digits, ':' and '-', UTF-8, some up to 250 bytes. */
function makeKeys(count: number): Uint8Array[] {
  return sampleKeys(count, 0x2545f491);
}

// Stores every key through pylibmc, then asks each live memcached on its own
// which keys it holds: pylibmc has no "which server" call. Prints, per key,
// the index of the server holding it, -1 for none (the set failed) and -2
// for more than one.
const PYTHON_SCRIPT = `
import json, sys
import pylibmc

data = json.load(sys.stdin)
keys = [bytes.fromhex(k) for k in data["keys"]]
mc = pylibmc.Client(data["servers"], behaviors=data["behaviors"])
if data["eject"]:
    # Requests to the dead server fail until libmemcached ejects it.
    for n in range(1000):
        try:
            mc.set("probe-%d" % n, b"1")
        except pylibmc.ServerDead:
            break
        except pylibmc.Error:
            pass
    else:
        sys.exit("the dead server was never ejected")
for key in keys:
    try:
        mc.set(key, b"1")
    except pylibmc.Error:
        pass
holders = {}
for index, address in enumerate(data["servers"]):
    if index in data["live"]:
        for key in pylibmc.Client([address]).get_multi(keys):
            holders[key] = -2 if key in holders else index
print(" ".join(str(holders.get(key, -1)) for key in keys))
`;

interface PylibmcRun {
  servers: ServerSpec[];
  live: number[];
  behaviors: Record<string, number | boolean>;
  eject?: boolean;
}

async function placeWithPylibmc(run: PylibmcRun, keys: Uint8Array[]): Promise<number[]> {
  const child = new Deno.Command(DEBIAN_PYTHON, {
    args: ["-c", PYTHON_SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(bytes(JSON.stringify({
    keys: keys.map(hex),
    servers: run.servers.map((s) => `${s.host}:${s.port}:${s.weight}`),
    live: run.live,
    behaviors: run.behaviors,
    eject: run.eject ?? false,
  })));
  await writer.close();
  const output = await child.output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim().split(" ").map(Number);
}

/** memcached refuses to run as root without a user to become. */
function memcachedArgs(): string[] {
  return Deno.uid() === 0 ? ["-u", "root"] : [];
}

/** Starts memcached processes that stop when `stack` is disposed. */
async function startServers(stack: AsyncDisposableStack, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(stack.use(await startMemcached(memcachedArgs())).port);
  return ports;
}

function assertSamePlacement(
  router: KetamaRouter,
  alive: (i: number) => boolean,
  keys: Uint8Array[],
  expected: number[],
): void {
  assert.equal(expected.length, keys.length);
  const differ: string[] = [];
  keys.forEach((key, k) => {
    const ours = router.pick(key, alive);
    if (ours !== expected[k]) differ.push(`${hex(key)}: ours ${ours}, pylibmc ${expected[k]}`);
  });
  assert.equal(differ.length, 0, `${differ.length} keys differ, e.g. ${differ.slice(0, 3)}`);
}

const hasPeers = () => hasPythonModule("pylibmc") && hasMemcached();
const WEIGHTED = { ketama_weighted: true };

for (const weights of [[1, 2, 1], [1, 2, 3, 4, 15]]) {
  const listed = weights.join(", ");
  // 1, 2, 3, 4, 15 is a case where C float arithmetic gives the first server
  // 7 digests where double arithmetic would give 8.
  Deno.test({
    name: `KetamaRouter places 10,000 keys as pylibmc does over servers weighted ${listed}`,
    ignore: !hasPeers(),
    async fn() {
      await using stack = new AsyncDisposableStack();
      const ports = await startServers(stack, weights.length);
      const servers = ports.map((port, i) => ({ host: "127.0.0.1", port, weight: weights[i] }));
      const keys = makeKeys(10_000);
      const live = servers.map((_, i) => i);
      const expected = await placeWithPylibmc({ servers, live, behaviors: WEIGHTED }, keys);
      assertSamePlacement(new KetamaRouter(servers), allAlive, keys, expected);
    },
  });
}

async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "KetamaRouter labels a port-11211 server host-i, as pylibmc does (failover none)",
  ignore: !hasPeers(),
  async fn() {
    // The 11211 server is one nobody listens on: libmemcached without
    // auto-eject fails the keys it owns instead of moving them, and those
    // failures show where its points are.
    if (await listening(11211)) {
      console.warn("skipped: something listens on 127.0.0.1:11211, so it cannot stand in as dead");
      return;
    }
    await using stack = new AsyncDisposableStack();
    const [first, third] = await startServers(stack, 2);
    const servers = [
      { host: "127.0.0.1", port: first, weight: 1 },
      { host: "127.0.0.1", port: 11211, weight: 2 },
      { host: "127.0.0.1", port: third, weight: 1 },
    ];
    const keys = makeKeys(10_000);
    const expected = await placeWithPylibmc({ servers, live: [0, 2], behaviors: WEIGHTED }, keys);
    const router = new KetamaRouter(servers, { failover: "none" });
    assertSamePlacement(router, (i) => i !== 1, keys, expected);
  },
});

Deno.test({
  name: "KetamaRouter rebuilds the continuum without a dead server, as pylibmc remove_failed does",
  ignore: !hasPeers(),
  async fn() {
    await using stack = new AsyncDisposableStack();
    const [first, third] = await startServers(stack, 2);
    // The second server's port was free a moment ago and nobody listens on it.
    const servers = [
      { host: "127.0.0.1", port: first, weight: 1 },
      { host: "127.0.0.1", port: freePort(), weight: 2 },
      { host: "127.0.0.1", port: third, weight: 1 },
    ];
    const behaviors = {
      ...WEIGHTED,
      remove_failed: 1,
      failure_limit: 1,
      retry_timeout: 600,
      dead_timeout: 600,
    };
    const keys = makeKeys(10_000);
    const expected = await placeWithPylibmc(
      { servers, live: [0, 2], behaviors, eject: true },
      keys,
    );
    assertSamePlacement(new KetamaRouter(servers), (i) => i !== 1, keys, expected);
  },
});
