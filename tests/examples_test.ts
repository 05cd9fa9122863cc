import assert from "node:assert/strict";
import { serve } from "./_layer.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

/** What each example prints, line by line, against a fresh server. */
const EXPECTED: Record<string, string[]> = {
  "01_first_get_set.ts": ["some_key = Some value", "another_key = 3"],
  "02_weighted_cluster.ts": ["10 of 10 users found across 3 server(s)"],
  "03_add.ts": ["true", "false", "first"],
  "04_replace.ts": ["false", "true", "new value"],
  "05_set_multi.ts": ["keys not stored: []", "val1 val2"],
  "06_delete_multi.ts": ["true", "false", "true", "[Object: null prototype] {}"],
  "07_get_multi.ts": ["undefined", '[Object: null prototype] { key1: "val1", key2: "val2" }'],
  "08_append_prepend.ts": ["v1after", "beforev1after"],
  "09_incr_decr.ts": ["778", "788", "787", "777"],
  "10_gets_cas.ts": ["900 900", "true", "false", "899"],
  "11_get_or_set.ts": [
    "100 callers, 1 query",
    '{"visits":1001}',
    "refreshed to 1002, 9 served stale",
    "2 queries in all",
    "true true 1002",
  ],
};

Deno.test("examples/ holds the walkthrough steps and the meta example, each tested here", () => {
  const files = [...Deno.readDirSync(EXAMPLES)].map((e) => e.name).filter((n) => n.endsWith(".ts"));
  assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
});

for (const [file, lines] of Object.entries(EXPECTED)) {
  Deno.test(`example ${file} runs against our server and prints what it says`, async () => {
    await using a = serve({ port: 0 });
    await using b = serve({ port: 0 });
    await using c = serve({ port: 0 });
    const servers = file === "02_weighted_cluster.ts"
      ? [[a, 1], [b, 2], [c, 1]].map(([s, w]) => `127.0.0.1:${(s as typeof a).addr.port}:${w}`)
      : [`127.0.0.1:${a.addr.port}`];
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", EXAMPLES + file],
      env: { MEMCACHE_SERVERS: servers.join(","), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.deepEqual(new TextDecoder().decode(out.stdout).trimEnd().split("\n"), lines);
  });
}
