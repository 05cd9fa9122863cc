/**
 * The client's ASCII authentication (`auth`) against servers started with
 * `-Y <file>`: Debian's memcached and ours. Right credentials work, and a
 * reconnection authenticates again; wrong ones fail every call, quiet calls
 * included, with an `AuthError` naming the server and its reply.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AuthError, Client, type ClientOptions, ConnectionError, serve } from "../mod.ts";
import { freePort, hasMemcached } from "./_peers.ts";
import { startOurServer, startReference, stop, tempFiles } from "./_servers.ts";

const USERS = "alice:secret\nbob:hunter2\n";
const HAS_MEMCACHED = hasMemcached();

/** Runs `check` against memcached -Y and ours -Y, both reading the same users. */
async function onBoth(check: (port: number, name: string) => Promise<void>): Promise<void> {
  await using files = await tempFiles({ users: USERS });
  const args = ["-Y", files.path("users")];
  await using ours = await startOurServer(args);
  await using reference = HAS_MEMCACHED ? await startReference(args) : undefined;
  await Promise.all([
    check(ours.port, "ours"),
    ...(reference === undefined ? [] : [check(reference.port, "memcached")]),
  ]);
}

function client(port: number, options: ClientOptions): Client {
  return new Client([`127.0.0.1:${port}`], { socketTimeout: 2, ...options });
}

function refused(server: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AuthError, String(error));
    assert.ok(!(error instanceof ConnectionError));
    assert.equal(error.server, server);
    assert.ok(error.line?.startsWith("CLIENT_ERROR "), error.line);
    assert.ok(error.message.startsWith(`Cannot authenticate to ${server} as "alice"`));
    return true;
  };
}

Deno.test("Client with the right credentials authenticates ahead of its first, pipelined requests", async () => {
  await onBoth(async (port, name) => {
    await using c = client(port, { auth: { username: "bob", password: "hunter2" } });
    // Everything below is queued before the connection opens, behind the auth request.
    const [set, quiet, get, multi] = await Promise.all([
      c.set("k", "v"),
      c.set("quiet", "q", { noreply: true }),
      c.get("k"),
      c.getMulti(["k", "quiet", "missing"]),
    ]);
    assert.deepEqual(
      [set, quiet, get, { ...multi }],
      [true, true, "v", { k: "v", quiet: "q" }],
      name,
    );
    const stats = await c.stats();
    assert.equal(stats[0][1].auth_cmds, "1", name);
    assert.equal(stats[0][1].auth_errors, "0", name);
    // The auth request stored nothing a get can read.
    assert.equal(await c.get("@x/memcache/auth"), undefined, name);
  });
});

Deno.test("Client with wrong credentials rejects every call with an AuthError naming the server", async () => {
  await onBoth(async (port, name) => {
    const server = `127.0.0.1:${port}`;
    await using c = client(port, { auth: { username: "alice", password: "wrong" } });
    const calls = [c.get("k"), c.set("k", "v"), c.set("q", "v", { noreply: true }), c.version()];
    for (const call of calls) await assert.rejects(call, refused(server), name);
    // A call after the failure reconnects, and is refused again: never a miss.
    await assert.rejects(c.get("k"), refused(server), name);
    assert.deepEqual(c.deadServers, [], name);
    // One auth request per connection: the queued sets were read as malformed auth requests.
    await using good = client(port, { auth: { username: "alice", password: "secret" } });
    const [[, stats]] = await good.stats();
    assert.deepEqual([stats.auth_cmds, stats.auth_errors], ["3", "2"], name);
  });
});

Deno.test("Client authenticates again when it reconnects to a restarted server", async () => {
  await using files = await tempFiles({ users: USERS });
  const auth = { username: "alice", password: "secret" };
  const ourPort = freePort();
  const memcachedPort = freePort();
  const start = (which: "ours" | "memcached") =>
    which === "ours"
      ? serve({ port: ourPort, authFile: files.path("users") })
      : new Deno.Command("memcached", {
        args: [
          ...(Deno.uid() === 0 ? ["-u", "root"] : []),
          ...["-U", "0", "-l", "127.0.0.1", "-p", String(memcachedPort), "-Y", files.path("users")],
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
  const check = async (which: "ours" | "memcached", port: number) => {
    await using c = client(port, { auth, connectTimeout: 1 });
    let server = start(which);
    const halt = (s: typeof server) => "close" in s ? s.close() : stop(s);
    try {
      assert.equal(await retry(() => c.set("k", "before")), true, which);
      await halt(server);
      await assert.rejects(c.get("k"), ConnectionError, which);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      server = start(which);
      assert.equal(await retry(() => c.set("k", "after")), true, which);
      assert.equal(await c.get("k"), "after", which);
      const [[, stats]] = await c.stats();
      assert.equal(stats.auth_cmds, "1", which);
    } finally {
      await halt(server);
    }
  };
  await Promise.all([
    check("ours", ourPort),
    ...(HAS_MEMCACHED ? [check("memcached", memcachedPort)] : []),
  ]);
});

/** Retries a call while the server is still starting (its port not yet open). */
async function retry<T>(call: () => Promise<T>): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ConnectionError) || i >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
  }
}
