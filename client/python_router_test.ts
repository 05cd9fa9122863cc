import assert from "node:assert/strict";
import { hex, sampleKeys } from "../tests/_keys.ts";
import { crc32 } from "./_hash.ts";
import { PythonRouter } from "./python_router.ts";
import type { ServerSpec } from "./router.ts";
import { DEBIAN_PYTHON, hasPythonModule } from "../tests/_peers.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const allAlive = () => true;

function specs(weights: number[]): ServerSpec[] {
  return weights.map((weight, i) => ({ host: "127.0.0.1", port: 11211 + i, weight }));
}

/** python-memcached's hash without the legacy `or 1`. */
const serverHash = (text: string) => (crc32(bytes(text)) >>> 16) & 0x7fff;

Deno.test("PythonRouter places the known vectors over servers weighted 1, 2, 3", () => {
  const router = new PythonRouter(specs([1, 2, 3]));
  // key, crc32, hash, server (buckets s1 s2 s2 s3 s3 s3)
  const vectors: [string, number, number, number][] = [
    ["foo", 0x8c736521, 3187, 1],
    ["bar", 0x76ff8caa, 30463, 1],
    ["hello", 0x3610a686, 13840, 2],
    ["user:42", 0x646f0d86, 25711, 1],
  ];
  for (const [key, crc, hash, server] of vectors) {
    assert.equal(crc32(bytes(key)), crc, key);
    assert.equal(serverHash(key), hash, key);
    assert.equal(router.pick(bytes(key), allAlive), server, key);
  }
});

Deno.test("PythonRouter follows python-memcached's rehash chain past dead servers", () => {
  const router = new PythonRouter(specs([1, 2, 3]));
  const foo = bytes("foo");
  // 3187 -> "31870" -> 29842 (s3) -> "298421" -> 32274 (s1)
  assert.equal(serverHash("31870"), 29842);
  assert.equal(serverHash("298421"), 32274);
  assert.equal(router.pick(foo, (i) => i !== 1), 2);
  assert.equal(router.pick(foo, (i) => i === 0), 0);
});

Deno.test("PythonRouter gives up with -1 after 10 picks of dead servers", () => {
  const router = new PythonRouter(specs([1, 2, 3]));
  let asked = 0;
  const result = router.pick(bytes("foo"), () => {
    asked++;
    return false;
  });
  assert.equal(result, -1);
  assert.equal(asked, 10);
});

Deno.test("PythonRouter maps hash 0 to 1 only with legacyZeroHash", () => {
  assert.equal(serverHash("k25"), 0);
  const modern = new PythonRouter(specs([1, 2, 3]));
  const legacy = new PythonRouter(specs([1, 2, 3]), { legacyZeroHash: true });
  assert.equal(modern.pick(bytes("k25"), allAlive), 0);
  assert.equal(legacy.pick(bytes("k25"), allAlive), 1);
  // z:233 hashes to 1666 (s3); its first rehash, "16660", hashes to 0.
  assert.equal(serverHash("z:233"), 1666);
  assert.equal(serverHash("16660"), 0);
  assert.equal(modern.pick(bytes("z:233"), (i) => i !== 2), 0);
  assert.equal(legacy.pick(bytes("z:233"), (i) => i !== 2), 1);
});

Deno.test("PythonRouter rejects an empty list and weights that are not positive integers", () => {
  assert.throws(() => new PythonRouter([]), RangeError);
  assert.throws(() => new PythonRouter(specs([1, 0])), RangeError);
  assert.throws(() => new PythonRouter(specs([1.5])), RangeError);
  assert.throws(
    () => new PythonRouter(specs([1, -1])),
    { message: "Cannot route keys: server 1 has weight -1, expected a positive integer" },
  );
});

/** Deterministic keys: ascii, digits, ':' and '-', UTF-8, some up to 250 bytes. */
function makeKeys(count: number): Uint8Array[] {
  return sampleKeys(count, 0x9e3779b9, [
    "foo",
    "bar",
    "hello",
    "user:42",
    "k25",
    "k30507",
    "z:233",
    "z:6131",
  ]);
}

// Builds memcache.Client with the weights, marks servers alive or dead by
// replacing each _Host's connect(), and prints _get_server's choice per key.
const PYTHON_SCRIPT = `
import binascii, json, sys
import memcache

data = json.load(sys.stdin)
keys = [bytes.fromhex(k) for k in data["keys"]]
legacy_hash = memcache.serverHashFunction
def modern_hash(key):
    return ((binascii.crc32(key) & 0xffffffff) >> 16) & 0x7fff
print(legacy_hash(b"k25"))
for case in data["cases"]:
    memcache.serverHashFunction = modern_hash if case["modern"] else legacy_hash
    mc = memcache.Client([("127.0.0.1:%d" % (11211 + i), w) for i, w in enumerate(case["weights"])])
    for server, alive in zip(mc.servers, case["alive"]):
        server.connect = (lambda ok: lambda: ok)(1 if alive else 0)
    index = {id(server): i for i, server in enumerate(mc.servers)}
    out = []
    for key in keys:
        server, _ = mc._get_server(key)
        out.append(-1 if server is None else index[id(server)])
    print(" ".join(map(str, out)))
`;

interface Case {
  weights: number[];
  alive: boolean[];
  modern: boolean;
}

Deno.test({
  name: "PythonRouter places 10,000 keys as Debian's python-memcached does, alive or dead",
  ignore: !hasPythonModule("memcache"),
  async fn() {
    const keys = makeKeys(10_000);
    const cases: Case[] = [];
    for (const weights of [[1, 2, 1], [1, 2, 3]]) {
      for (const modern of [false, true]) {
        const alives = [
          [true, true, true],
          [false, true, true],
          [true, false, true],
          [
            true,
            true,
            false,
          ],
          [false, true, false],
          [false, false, false],
        ];
        for (const alive of alives) cases.push({ weights, alive, modern });
      }
    }
    const child = new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", PYTHON_SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(bytes(JSON.stringify({ keys: keys.map(hex), cases })));
    await writer.close();
    const output = await child.output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const [zeroHash, ...lines] = new TextDecoder().decode(output.stdout).trim().split("\n");
    // Debian's python3-memcache is the legacy one: hash 0 becomes 1.
    assert.equal(zeroHash, "1");
    assert.equal(lines.length, cases.length);
    cases.forEach((c, n) => {
      const expected = lines[n].split(" ").map(Number);
      const router = new PythonRouter(specs(c.weights), { legacyZeroHash: !c.modern });
      const alive = (i: number) => c.alive[i];
      let failed = 0;
      keys.forEach((key, k) => {
        if (router.pick(key, alive) !== expected[k]) failed++;
      });
      assert.equal(failed, 0, `${failed} keys differ for ${JSON.stringify(c)}`);
    });
  },
});
