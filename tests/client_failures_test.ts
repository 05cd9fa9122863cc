/**
 * What a client user sees when something is wrong: a bad server address,
 * a server that refuses, cannot be resolved, is not permitted or is gone,
 * and how it comes back. Every error names the server and carries why.
 */

import assert from "node:assert/strict";
import { Client, ConnectionError, NoServerError, serve } from "../mod.ts";
import { freePort, hasMemcached } from "./_peers.ts";

function named(error: unknown, server: string): ConnectionError {
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(error.server, server);
  assert.ok(error.message.includes(server), error.message);
  return error;
}

Deno.test("Client refuses a server address in none of the forms, naming it and the forms", () => {
  for (
    const bad of [
      "memcached://127.0.0.1:11211",
      " 127.0.0.1:11211",
      "127.0.0.1:11211 ",
      "127.0.0.1:",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "::1:11211",
      "",
      "unix:",
    ]
  ) {
    assert.throws(() => new Client([bad]), (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.ok(error.message.includes(`"${bad}"`), error.message);
      assert.ok(error.message.includes("host:port, [ipv6]:port, unix:/path"), error.message);
      return true;
    });
  }
  assert.throws(
    () => new Client(["10.0.0.1:11211", "127.0.0.1:11211:2"]),
    /server 1 "127\.0\.0\.1:11211:2".*pass \["127\.0\.0\.1:11211", 2\]/,
  );
  assert.throws(() => new Client([["127.0.0.1:11211", 0]]), RangeError);
  assert.throws(() => new Client([["127.0.0.1:11211", 1.5]]), RangeError);
  assert.throws(() => new Client([42 as unknown as string]), TypeError);
  assert.throws(() => new Client("127.0.0.1:11211" as unknown as string[]), TypeError);
  assert.throws(() => new Client(["unix:/tmp/mc.sock"], { tls: true }), /TLS is for TCP/);
});

Deno.test("Client takes python-memcached's address forms, and [ipv6]:port", () => {
  const client = new Client([
    "localhost",
    "10.0.0.1:11212",
    "[::1]:11213",
    "inet6:[::1]",
    "inet:cache.example:11214",
    "unix:/run/memcached.sock",
    ["10.0.0.2:11215", 3],
  ]);
  assert.deepEqual(client.servers, [
    "localhost:11211",
    "10.0.0.1:11212",
    "[::1]:11213",
    "[::1]:11211",
    "cache.example:11214",
    "unix:/run/memcached.sock",
    "10.0.0.2:11215",
  ]);
  client.close();
});

Deno.test("Client names a refusing server and why, then says when it tries again", async () => {
  const server = `127.0.0.1:${freePort()}`;
  await using client = new Client([server]);
  await assert.rejects(client.get("k"), (error: Error) => {
    assert.ok(!(error instanceof NoServerError), "the first call says what happened");
    assert.ok(named(error, server).cause instanceof Deno.errors.ConnectionRefused);
    return true;
  });
  const [dead] = client.deadServers;
  assert.equal(dead.server, server);
  assert.ok(dead.error.cause instanceof Deno.errors.ConnectionRefused);
  assert.ok(dead.until.getTime() > Date.now() + 25_000, "left out for deadRetry, 30 s");
  for (
    const call of [() => client.get("k"), () => client.set("k", 1), () => client.getMulti(["a"])]
  ) {
    await assert.rejects(call, (error: Error) => {
      assert.ok(named(error, server) instanceof NoServerError, String(error));
      assert.match(error.message, /tried again in [01]\.\d s/);
      assert.equal(error.cause, dead.error);
      return true;
    });
  }
  for (const call of [() => client.stats(), () => client.version(), () => client.flushAll()]) {
    await assert.rejects(call, NoServerError);
  }
  for (const call of [() => client.setMulti({ a: 1, b: 2 }), () => client.deleteMulti(["a"])]) {
    await assert.rejects(call, (error: Error) => named(error, server) instanceof NoServerError);
  }
});

Deno.test("Client names an unresolvable host and the resolver's error", async () => {
  await using client = new Client(["no-such-host.invalid:11211"], { connectTimeout: 2 });
  await assert.rejects(client.get("k"), (error: Error) => {
    const cause = named(error, "no-such-host.invalid:11211").cause;
    assert.ok(cause instanceof Error && !(cause instanceof ConnectionError), String(cause));
    return true;
  });
});

Deno.test("Client without --allow-net says so, naming the server", async () => {
  const script = `
    import { Client } from "${new URL("../client/mod.ts", import.meta.url).href}";
    await using client = new Client(["127.0.0.1:11211"]);
    try {
      await client.get("k");
    } catch (error) {
      console.log(JSON.stringify({
        name: error.name,
        server: error.server,
        message: error.message,
        cause: error.cause?.name,
      }));
    }
  `;
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/no_net.ts`, script);
  const { stdout, code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `${dir}/no_net.ts`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(code, 0);
  const seen = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(seen.name, "ConnectionError");
  assert.equal(seen.server, "127.0.0.1:11211");
  assert.match(seen.message, /^Cannot connect to 127\.0\.0\.1:11211: Requires net access/);
  assert.equal(seen.cause, "NotCapable");
});

Deno.test("Client with some servers down returns what the live ones have and names the dead", async () => {
  await using live = serve({ port: 0 });
  const gone = `127.0.0.1:${freePort()}`;
  await using client = new Client([`127.0.0.1:${live.addr.port}`, gone]);
  const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
  // The dead server's keys go to the live one, as python-memcached sends them.
  assert.deepEqual(await client.setMulti(keys.map((k) => [k, k] as const)), []);
  assert.equal(Object.keys(await client.getMulti(keys)).length, keys.length);
  assert.deepEqual(client.deadServers.map((d) => d.server), [gone]);
  const stats = await client.stats();
  assert.deepEqual(stats.map(([name]) => name), [`127.0.0.1:${live.addr.port}`]);
});

Deno.test("Client whose only server restarts answers the first call after it is back", async () => {
  const port = freePort();
  const first = serve({ port });
  await using client = new Client([`127.0.0.1:${port}`]);
  assert.equal(await client.set("k", "before"), true);
  await first.close();
  await assert.rejects(client.get("k"), ConnectionError);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await using _restarted = serve({ port });
  assert.equal(await client.set("k", "after"), true);
  assert.equal(await client.get("k"), "after");
  assert.deepEqual(client.deadServers, []);
});

Deno.test("Client reaches memcached over a unix socket (unix:/path)", async () => {
  if (!hasMemcached()) return;
  const dir = await Deno.makeTempDir();
  const path = `${dir}/memcached.sock`;
  const memcached = new Deno.Command("memcached", {
    args: [...(Deno.uid() === 0 ? ["-u", "root"] : []), "-s", path, "-U", "0"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (let i = 0; i < 200; i++) {
      try {
        (await Deno.connect({ transport: "unix", path })).close();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await using client = new Client([`unix:${path}`]);
    assert.equal(await client.set("greeting", "hello"), true);
    assert.equal(await client.get("greeting"), "hello");
    assert.deepEqual((await client.version()).map(([name]) => name), [`unix:${path}`]);
  } finally {
    memcached.kill("SIGTERM");
    await memcached.status;
    await Deno.remove(dir, { recursive: true });
  }
});
