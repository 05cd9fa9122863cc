/**
 * What a client user sees when something is wrong: a bad server address,
 * a server that refuses, cannot be resolved, is not permitted or is gone,
 * and how it comes back. Every error names the server and carries why.
 */

import assert from "node:assert/strict";
import {
  Client,
  ConnectionError,
  NoServerError,
  ProtocolError,
  ServerError,
  TimeoutError,
} from "../mod.ts";
import { fakePeer, readText, writeText } from "./_fake_peer.ts";
import { serve } from "./_layer.ts";
import { freePort, hasMemcached, startMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer, startReference } from "./_servers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Our server and Debian's memcached as processes with the same flags; memcached only when present. */
const PROCESSES: [string, (args: string[]) => Promise<ServerProcess>][] = [
  ["our server", startOurServer],
  ["Debian's memcached", startReference],
];

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

Deno.test({
  name: "Client reaches memcached over a unix socket (unix:/path)",
  ignore: !hasMemcached(),
  async fn() {
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
  },
});

for (const [name, start] of PROCESSES) {
  Deno.test(`Client on ${name}: a SERVER_ERROR amid a pipeline fails only the call that drew it`, async () => {
    if (name !== "our server" && !hasMemcached()) return;
    // Past -I (1 MB), a value draws "SERVER_ERROR object too large for cache"; the data is swallowed.
    await using server = await start([]);
    await using client = new Client([`127.0.0.1:${server.port}`], {
      serverMaxValueLength: 4 * 1024 * 1024,
    });
    const keys = Array.from({ length: 20 }, (_, i) => `p${i}`);
    assert.deepEqual(await client.setMulti(keys.map((k) => [k, `v:${k}`] as const)), []);
    const big = "x".repeat(2 * 1024 * 1024);
    const calls = await Promise.allSettled([
      client.get("p0"),
      client.set("big1", big),
      client.getMulti(keys),
      client.set("p1", "v:p1:new"),
      client.set("big2", big),
      client.get("p1"),
      client.getMulti(["p2", "big1", "p3"]),
    ]);
    const [get0, big1, multi, set1, big2, get1, multi2] = calls.map((c) =>
      c.status === "fulfilled" ? c.value : c.reason
    );
    assert.equal(get0, "v:p0");
    for (const error of [big1, big2]) {
      assert.ok(error instanceof ServerError, String(error));
      assert.equal(error.line, "SERVER_ERROR object too large for cache");
    }
    assert.deepEqual(
      { ...multi as Record<string, string> },
      Object.fromEntries(keys.map((k) => [k, `v:${k}`])),
    );
    assert.equal(set1, true);
    assert.equal(get1, "v:p1:new");
    assert.deepEqual({ ...multi2 as Record<string, string> }, { p2: "v:p2", p3: "v:p3" });
    // With noreply the server keeps that error to itself and swallows the data: the next get is in step.
    const [quiet, after] = await Promise.all([
      client.set("big3", big, { noreply: true }),
      client.get("p4"),
    ]);
    assert.equal(quiet, true);
    assert.equal(after, "v:p4");
    assert.deepEqual(client.deadServers, []);
  });

  Deno.test(`Client on ${name}: a getMulti of 200,000 keys interleaves writes and reads`, async () => {
    if (name !== "our server" && !hasMemcached()) return;
    await using server = await start(["-m", "256"]);
    await using client = new Client([`127.0.0.1:${server.port}`], { socketTimeout: 60 });
    const keys = Array.from({ length: 200_000 }, (_, i) => `many:${i}`);
    for (let i = 0; i < keys.length; i += 50_000) {
      const batch = keys.slice(i, i + 50_000);
      assert.deepEqual(await client.setMulti(batch.map((k) => [k, k] as const)), []);
    }
    // Some keys missing too: the reply is shorter than the 2.4 MB request line.
    const asked = [...keys, ...keys.slice(0, 1000).map((k) => `${k}:absent`)];
    const started = performance.now();
    const found = await client.getMulti<string>(asked);
    const elapsed = performance.now() - started;
    assert.equal(Object.keys(found).length, keys.length);
    for (const key of keys) assert.equal(found[key], key);
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
  });
}

Deno.test("Client reconnects after the server closed an idle connection, without marking it dead", async () => {
  // The first connection answers one get and closes, as memcached's idle_timeout does.
  await using peer = fakePeer(async (conn, index) => {
    for (let text = await readText(conn); text !== null; text = await readText(conn)) {
      await writeText(conn, `VALUE k 16 1\r\n${index}\r\nEND\r\n`);
      if (index === 0) return conn.close();
    }
  });
  await using client = new Client([`127.0.0.1:${peer.port}`]);
  assert.equal(await client.get("k"), "0");
  await sleep(100);
  assert.equal(await client.get("k"), "1");
  assert.deepEqual(client.deadServers, []);
  assert.equal(peer.accepted, 2);
});

Deno.test({
  name: "Client reconnects after memcached's idle_timeout closed its connection",
  ignore: !hasMemcached(),
  async fn() {
    await using memcached = await startMemcached(["-o", "idle_timeout=1"]);
    await using client = new Client([`127.0.0.1:${memcached.port}`], { deadRetry: 60 });
    assert.equal(await client.set("k", "v"), true);
    // memcached's idle sweep runs every second or two; another client watches for the kick.
    await using watcher = new Client([`127.0.0.1:${memcached.port}`]);
    const kicks = async () => Number((await watcher.stats())[0][1].idle_kicks);
    for (let i = 0; i < 40 && await kicks() === 0; i++) await sleep(250);
    assert.ok(await kicks() > 0, "memcached closed no idle connection within 10 s");
    assert.equal(await client.get("k"), "v");
    assert.deepEqual(client.deadServers, []);
  },
});

Deno.test("Client times out a TLS handshake the server never answers, within connectTimeout", async () => {
  await using peer = fakePeer(async (conn) => {
    while (await readText(conn) !== null) { /* reads the ClientHello and never answers */ }
  });
  await using client = new Client([`127.0.0.1:${peer.port}`], {
    tls: true,
    connectTimeout: 0.3,
    socketTimeout: 10,
  });
  const started = performance.now();
  await assert.rejects(client.get("k"), (error: Error) => {
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /^Cannot connect to 127\.0\.0\.1:\d+: no answer within 0\.3 s/);
    return true;
  });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 290 && elapsed < 1500, `took ${elapsed} ms`);
  assert.equal(client.deadServers.length, 1);
});

Deno.test("Client closes a connection whose replies are out of step, failing the calls on it", async () => {
  // Answers each get with another key's value, then a line no get has.
  await using peer = fakePeer(async (conn, index) => {
    await readText(conn);
    await writeText(
      conn,
      index === 0 ? "VALUE other 16 5\r\nwrong\r\nEND\r\n" : "STORED\r\nEND\r\n",
    );
    while (await readText(conn) !== null) { /* answers nothing more */ }
  });
  await using client = new Client([`127.0.0.1:${peer.port}`], { deadRetry: 0 });
  const [first, second] = await Promise.allSettled([client.get("k"), client.get("other")]);
  assert.equal(first.status, "rejected");
  assert.ok(first.reason instanceof ProtocolError, String(first.reason));
  assert.match(first.reason.message, /get "k": the server answered with "other"/);
  assert.equal(second.status, "rejected");
  assert.ok(second.reason instanceof ConnectionError, String(second.reason));
  await assert.rejects(client.get("k"), ProtocolError);
  assert.equal(peer.accepted, 2);
});

Deno.test("Client under kill -9 and restart fails fast or fails over, and never mixes keys", async () => {
  await using steady = await startOurServer();
  let victim: ServerProcess | undefined = await startOurServer();
  const victimPort = victim.port;
  const timeout = 1;
  await using client = new Client([`127.0.0.1:${steady.port}`, `127.0.0.1:${victimPort}`], {
    socketTimeout: timeout,
    connectTimeout: timeout,
    deadRetry: 1,
  });
  try {
    const callers = 8;
    const perCaller = 400;
    let done = 0;
    let slowest = 0;
    const failures: unknown[] = [];
    const wrong: string[] = [];
    const caller = async (c: number) => {
      for (let i = 0; i < perCaller; i++) {
        const key = `load:${(c * 7919 + i * 31) % 600}`;
        const started = performance.now();
        try {
          if (i % 3 === 0) await client.set(key, `${key}=${c}:${i}`);
          else {
            const value = await client.get<string>(key);
            if (value !== undefined && !value.startsWith(`${key}=`)) wrong.push(`${key}: ${value}`);
          }
        } catch (error) {
          failures.push(error);
        }
        slowest = Math.max(slowest, performance.now() - started);
        done++;
        await sleep(3);
      }
    };
    const load = Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
    while (done < callers * perCaller / 4) await sleep(5);
    victim.process.kill("SIGKILL");
    await victim.process.status;
    victim = undefined;
    await sleep(200);
    victim = await startOurServer([], { port: victimPort });
    await load;
    assert.deepEqual(wrong, []);
    for (const error of failures) assert.ok(error instanceof ConnectionError, String(error));
    // Every call ends within its timeout (1 s) plus a margin for a loaded box.
    assert.ok(slowest < timeout * 1000 + 1500, `slowest call took ${slowest} ms`);
    // After deadRetry the restarted server takes its keys again.
    await sleep(1100);
    const keys = Array.from({ length: 100 }, (_, i) => `back:${i}`);
    assert.deepEqual(await client.setMulti(keys.map((k) => [k, k] as const)), []);
    await using direct = new Client([`127.0.0.1:${victimPort}`]);
    const onVictim = Object.keys(await direct.getMulti(keys)).length;
    assert.ok(onVictim > 20 && onVictim < 80, `${onVictim} of 100 keys on the restarted server`);
    assert.deepEqual(client.deadServers, []);
    console.log(
      `${failures.length} of ${callers * perCaller} calls failed; slowest ${slowest | 0} ms`,
    );
  } finally {
    await victim?.[Symbol.asyncDispose]();
  }
});

Deno.test("Client with flushOnRejoin empties a server back from the dead instead of serving its stale values", async () => {
  await using steady = await startOurServer();
  await using frozen = await startOurServer();
  const servers = [`127.0.0.1:${steady.port}`, `127.0.0.1:${frozen.port}`];
  const options = { socketTimeout: 0.3, connectTimeout: 0.3, deadRetry: 0.5 };
  await using direct = new Client([servers[1]]);
  for (const flushOnRejoin of [false, true]) {
    await using client = new Client(servers, { ...options, flushOnRejoin });
    // A key the frozen server holds, written while both were live.
    let key = "";
    for (let i = 0; key === ""; i++) {
      await client.set(`r${i}`, "old");
      if (await direct.get(`r${i}`) === "old") key = `r${i}`;
    }
    frozen.process.kill("SIGSTOP");
    try {
      await assert.rejects(client.get(key), TimeoutError);
      // Left out of routing, its key is written on the other server.
      assert.equal(await client.set(key, "new"), true);
      assert.equal(await client.get(key), "new");
    } finally {
      frozen.process.kill("SIGCONT");
    }
    await sleep(600);
    // Back in routing: python-memcached's trade serves the old value; the flush makes it a miss.
    assert.equal(await client.get(key), flushOnRejoin ? undefined : "old");
    assert.deepEqual(client.deadServers, []);
  }
});

Deno.test({
  name: "Client with flushOnRejoin keeps a server dead that refuses flush_all (-F)",
  ignore: !hasMemcached(),
  async fn() {
    await using memcached = await startMemcached(["-F"]);
    const server = `127.0.0.1:${memcached.port}`;
    await using client = new Client([server], { flushOnRejoin: true, deadRetry: 0 });
    memcached.process.kill("SIGSTOP");
    await using short = new Client([server], {
      flushOnRejoin: true,
      socketTimeout: 0.2,
      deadRetry: 0,
    });
    try {
      await assert.rejects(short.get("k"), TimeoutError);
    } finally {
      memcached.process.kill("SIGCONT");
    }
    await assert.rejects(short.get("k"), (error: Error) => {
      assert.ok(error instanceof ConnectionError, String(error));
      assert.match(error.message, /Cannot open .*: it refused flush_all \(.*flush_all not allowed/);
      return true;
    });
    // A client whose connection never failed sends no flush.
    assert.equal(await client.set("k", "v"), true);
  },
});
