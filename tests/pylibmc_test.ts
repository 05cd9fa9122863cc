/**
 * pylibmc (Debian's python3-pylibmc, on libmemcached) pointed at our server:
 * every call a user makes gives the same results as against Debian's memcached.
 */

import assert from "node:assert/strict";
import { DEBIAN_PYTHON, hasMemcached, hasPythonModule } from "./_peers.ts";
import { startOurServer, startReference } from "./_servers.ts";

const SCRIPT = new URL("./peers/pylibmc_basics.py", import.meta.url).pathname;

async function run(port: number): Promise<unknown> {
  const out = await new Deno.Command(DEBIAN_PYTHON, {
    args: [SCRIPT, String(port)],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name: "pylibmc gets the same results from our server as from memcached",
  ignore: !hasPythonModule("pylibmc"),
  async fn() {
    await using ours = await startOurServer();
    const got = await run(ours.port) as Record<string, unknown>;
    assert.deepEqual(got.get, "hello");
    assert.deepEqual(got.cas, ["<yes!", true, false, "first"]);
    assert.deepEqual(got.incr_decr, [6, 4, 0]);
    assert.equal(got.big, 500000);
    if (!hasMemcached()) return;
    await using reference = await startReference();
    assert.deepEqual(got, await run(reference.port));
  },
});
