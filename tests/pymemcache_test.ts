/**
 * pymemcache (Debian's python3-pymemcache) pointed at our server: Client and
 * HashClient basics. Each scenario also runs against Debian's memcached, so a
 * failure shows whether memcached itself behaves that way.
 */

import assert from "node:assert/strict";
import { DEBIAN_PYTHON, hasMemcached, hasPythonModule } from "./_peers.ts";
import { type ServerProcess, startMany, startOurServer, startReference } from "./_servers.ts";

const SCRIPT = new URL("./peers/pymemcache_basics.py", import.meta.url).pathname;
const decoder = new TextDecoder();

const TARGETS: [string, () => Promise<ServerProcess>, () => boolean][] = [
  ["our server", startOurServer, () => true],
  ["Debian's memcached", startReference, hasMemcached],
];

for (const [name, start, present] of TARGETS) {
  Deno.test({
    name: `pymemcache Client and HashClient basics pass against ${name}`,
    ignore: !hasPythonModule("pymemcache") || !present(),
    async fn() {
      await using servers = await startMany(start, 3);
      const out = await new Deno.Command(DEBIAN_PYTHON, {
        args: [SCRIPT, ...servers.ports.map(String)],
        stdout: "piped",
        stderr: "piped",
        // A server that stops answering fails the test instead of hanging the run.
        signal: AbortSignal.timeout(30_000),
      }).output();
      const stdout = decoder.decode(out.stdout);
      assert.equal(
        out.code,
        0,
        `pymemcache_basics.py exited ${out.code}:\n${decoder.decode(out.stderr)}\n${stdout}`,
      );
      const lines = stdout.trim().split("\n");
      const got = JSON.parse(lines[lines.length - 1]);

      // python asserted every step; these are the ones a reader looks for.
      assert.deepEqual(
        [got["add existing"], got["replace missing"], got["get appended"], got["delete missing"]],
        [false, false, "beforevafter", false],
      );
      assert.deepEqual([got["incr"], got["decr"], got["incr wraps"]], [15, 12, 1]);
      // memcached rewrites the shorter number in place, padded with spaces.
      assert.equal(got["get after decr below zero"], "0 ");
      assert.deepEqual([got["cas ok"], got["cas stale"], got["cas missing"]], [true, false, null]);
      assert.deepEqual([got["touch"], got["touch missing"]], [true, false]);
      assert.deepEqual(got["get_many after delete"], { m3: "3" });
      assert.match(got["key with space"], /^Key contains whitespace/);
      assert.equal(got["get after noreply sets"], "49", "noreply sets send no reply to misread");
      assert.deepEqual(got["typed get dict"], { a: [1, 2] });
      assert.equal(got["hash counts"].reduce((a: number, b: number) => a + b), 60);
      assert.deepEqual(got["hash get_many after delete"], {});

      const stats = got["stats"];
      assert.equal(stats["curr_items"], 5);
      assert.equal(stats["cmd_get"], 16);
      assert.equal(stats["get_hits"], 12);
      assert.equal(stats["get_misses"], 4);
      assert.equal(stats["cmd_touch"], 2);
      assert.equal(stats["cas_hits"], 1);
      assert.equal(stats["cas_badval"], 1);
      assert.equal(stats["cas_misses"], 1);
      assert.equal(stats["incr_hits"], 2);
      assert.equal(stats["decr_hits"], 2);
      assert.ok(Number.isInteger(stats["threads"]) && stats["threads"] > 0);
      assert.equal(stats["version"], got["version"]);
    },
  });
}
