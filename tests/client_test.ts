/**
 * The client against real servers over real sockets: our server (in
 * process) and Debian's memcached run the same suite. Fake servers built on
 * `Deno.listen` stand in for servers that hang, break or never answer.
 */

import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import {
  Client,
  ClientError,
  type ClientOptions,
  ConnectionError,
  FLAG_COMPRESSED,
  FLAG_INTEGER,
  FLAG_PICKLE,
  FLAG_SERIALIZED,
  FLAG_TEXT,
  NoServerError,
  ServerError,
  TimeoutError,
  ValueFlagsError,
} from "../client/mod.ts";
import { ResponseParser } from "../protocol/mod.ts";
import { serve } from "./_layer.ts";
import { freePort, hasMemcached, hasPeer, startMemcached } from "./_peers.ts";

const encoder = new TextEncoder();

interface Running extends AsyncDisposable {
  readonly port: number;
}

interface Target {
  name: string;
  available: () => boolean;
  /** Starts a server, on `port` when given. */
  start: (port?: number) => Promise<Running>;
}

function startOurs(port = 0): Promise<Running> {
  const server = serve({ port });
  return Promise.resolve({
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.close(),
  });
}

async function startMemcachedOn(port = freePort()): Promise<Running> {
  const process = new Deno.Command("memcached", {
    args: [
      ...(Deno.uid() === 0 ? ["-u", "root"] : []),
      ...["-t", "1", "-U", "0", "-l", "127.0.0.1", "-p", String(port)],
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 300; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return {
        port,
        async [Symbol.asyncDispose]() {
          try {
            process.kill("SIGKILL");
          } catch { /* already gone */ }
          await process.status;
        },
      };
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  process.kill("SIGKILL");
  await process.status;
  throw new Error(`Cannot start memcached on port ${port}`);
}

const TARGETS: Target[] = [
  { name: "our server", available: () => true, start: startOurs },
  { name: "Debian's memcached", available: hasMemcached, start: startMemcachedOn },
];

async function startMany(target: Target, count: number) {
  const servers = await Promise.all(Array.from({ length: count }, () => target.start()));
  return {
    servers,
    ports: servers.map((s) => s.port),
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
    },
  };
}

function clientFor(ports: number[], options: ClientOptions = {}): Client {
  return new Client(ports.map((p) => `127.0.0.1:${p}`), options);
}

/** Sends raw request bytes and reads one reply up to `END` (or a one-line reply). */
async function raw(port: number, request: string | Uint8Array): Promise<
  { key: string; flags: number; data: Uint8Array }[]
> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = typeof request === "string" ? encoder.encode(request) : request;
    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
    const parser = new ResponseParser();
    const values = [];
    while (true) {
      const n = await conn.read(parser.reserve(65536));
      if (n === null) throw new Error("server closed the connection");
      parser.commit(n);
      for (let f = parser.next(); f !== undefined; f = parser.next()) {
        if (f.type !== "value") return values;
        values.push({
          key: new TextDecoder().decode(f.key),
          flags: f.flags,
          data: f.data.slice(),
        });
      }
    }
  } finally {
    conn.close();
  }
}

/** A server that accepts, reads and never answers; counts the bytes it got. */
function silentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const state = { bytes: 0, accepted: 0 };
  const loop = (async () => {
    for await (const conn of listener) {
      state.accepted++;
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
            state.bytes += n;
          }
        } catch { /* closed */ }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    state,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop.catch(() => {});
    },
  };
}

for (const target of TARGETS) {
  const ignore = !target.available();
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({ name: `Client on ${target.name}: ${name}`, ignore, fn });

  test("every single-key method answers, with misses undefined and refusals false", async () => {
    await using server = await target.start();
    await using client = clientFor([server.port]);
    assert.equal(await client.get("missing"), undefined);
    assert.equal(await client.gets("missing"), undefined);
    assert.equal(await client.set("k", "v"), true);
    assert.equal(await client.get("k"), "v");
    assert.equal(await client.add("k", "other"), false);
    assert.equal(await client.add("k2", "new"), true);
    assert.equal(await client.replace("nope", "x"), false);
    assert.equal(await client.replace("k", "v2"), true);
    assert.equal(await client.append("k", "-end"), true);
    assert.equal(await client.prepend("k", "start-"), true);
    assert.equal(await client.get("k"), "start-v2-end");
    assert.equal(await client.append("nope", "x"), false);
    assert.equal(await client.prepend("nope", "x"), false);
    assert.equal(await client.touch("k", 1000), true);
    assert.equal(await client.touch("nope", 1000), false);
    assert.equal(await client.delete("k"), true);
    assert.equal(await client.delete("k"), false);
    assert.equal(await client.get("k"), undefined);
    assert.equal(await client.set("n", 10), true);
    assert.equal(await client.incr("n"), 11);
    assert.equal(await client.incr("n", 5n), 16);
    assert.equal(await client.decr("n", 20), 0);
    assert.equal(await client.incr("nope"), undefined);
    assert.equal(await client.decr("nope"), undefined);
    assert.equal(await client.set("big", 2n ** 64n - 2n), true);
    assert.equal(await client.incr("big"), 2n ** 64n - 1n);
    assert.equal(await client.get("big"), 2n ** 64n - 1n);
    assert.equal(await client.set("quiet", "q", { noreply: true }), true);
    assert.equal(await client.get("quiet"), "q");
    assert.equal(await client.set("gone", "x", { ttl: -1 }), true);
    assert.equal(await client.get("gone"), undefined);
    const [[name, stats]] = await client.stats();
    assert.equal(name, `127.0.0.1:${server.port}`);
    assert.ok(Number(stats.curr_items) >= 3);
    const [[, version]] = await client.version();
    assert.match(version, /^\d+\.\d+\.\d+/);
    const [[, settings]] = await client.stats({ group: "settings" });
    assert.ok("maxconns" in settings);
    assert.equal(await client.flushAll(), true);
    assert.equal(await client.get("n"), undefined);
  });

  test("server error replies throw their error class", async () => {
    await using server = await target.start();
    await using client = clientFor([server.port], { serverMaxValueLength: 0 });
    await client.set("text", "abc");
    await assert.rejects(client.incr("text"), ClientError);
    await assert.rejects(client.set("huge", new Uint8Array(2 * 1024 * 1024)), ServerError);
    // The connection stays in step after both.
    assert.equal(await client.get("text"), "abc");
  });

  test("cas lets only the first of two buyers through", async () => {
    await using server = await target.start();
    await using alice = clientFor([server.port]);
    await using bob = clientFor([server.port]);
    await alice.set("stock", 900);
    const a = await alice.gets<number>("stock");
    const b = await bob.gets<number>("stock");
    assert.equal(a?.value, 900);
    assert.equal(b?.value, 900);
    assert.equal(typeof a?.cas, "bigint");
    assert.equal(await alice.cas("stock", a!.value - 1, a!.cas), true);
    assert.equal(await bob.cas("stock", b!.value - 1, b!.cas), false);
    assert.equal(await bob.get("stock"), 899);
    assert.equal(await bob.cas("absent", 1, 1n), false);
    // Without a token and without cacheCas, python-memcached's cas is a set.
    assert.equal(await bob.cas("stock", 1), true);
    assert.equal(await bob.get("stock"), 1);
  });

  test("cacheCas remembers the token of the last gets", async () => {
    await using server = await target.start();
    await using alice = clientFor([server.port], { cacheCas: true });
    await using bob = clientFor([server.port], { cacheCas: true });
    await alice.set("stock", 900);
    await alice.gets("stock");
    await bob.gets("stock");
    assert.equal(await alice.cas("stock", 899), true);
    assert.equal(await bob.cas("stock", 899), false);
    // Without a cached token python-memcached stores unconditionally.
    assert.equal(await bob.cas("fresh", 1), true);
    bob.resetCas();
    assert.equal(await bob.cas("stock", 5), true);
    assert.equal(await alice.get("stock"), 5);
  });

  test("values round-trip with python-memcached's flags", async () => {
    await using server = await target.start();
    await using client = clientFor([server.port], { minCompressLen: 64 });
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const long = "compress me ".repeat(50);
    const cases: [string, unknown, number][] = [
      ["bytes", bytes, 0],
      ["text", "héllo ✓", FLAG_TEXT],
      ["int", -12345, FLAG_INTEGER],
      ["bigint", 2n ** 70n, FLAG_INTEGER],
      ["json", { a: [1, "b", null], c: true }, FLAG_SERIALIZED],
      ["float", 1.25, FLAG_SERIALIZED],
      ["long", long, FLAG_TEXT | FLAG_COMPRESSED],
      ["noise", crypto.getRandomValues(new Uint8Array(300)), 0],
    ];
    for (const [key, value] of cases) assert.equal(await client.set(key, value), true);
    for (const [key, value, flags] of cases) {
      assert.deepEqual(await client.get(key), value, key);
      const [stored] = await raw(server.port, `get ${key}\r\n`);
      assert.equal(stored.flags, flags, key);
    }
    const [compressed] = await raw(server.port, "get long\r\n");
    assert.ok(compressed.data.length < long.length);
    assert.equal(new TextDecoder().decode(inflateSync(compressed.data)), long);
    const [text] = await raw(server.port, "get text\r\n");
    assert.equal(new TextDecoder().decode(text.data), "héllo ✓");
  });

  test("a pickle comes back as a typed error, or as bytes when asked", async () => {
    await using server = await target.start();
    const pickle = new Uint8Array([0x80, 0x04, 0x4e, 0x2e]);
    const header = encoder.encode(`set pickled ${FLAG_PICKLE} 0 ${pickle.length}\r\n`);
    await raw(server.port, new Uint8Array([...header, ...pickle, 0x0d, 0x0a]));
    await using client = clientFor([server.port]);
    await assert.rejects(client.get("pickled"), (error: Error) => {
      assert.ok(error instanceof ValueFlagsError);
      assert.equal(error.key, "pickled");
      assert.equal(error.flags, FLAG_PICKLE);
      assert.match(error.message, /^Cannot decode "pickled": .*undecodable: "bytes"/);
      return true;
    });
    // One pickle in a multi-get loses none of the other values.
    await client.setMulti({ a: "A", b: "B" });
    await assert.rejects(client.getMulti(["a", "pickled", "b", "missing"]), (error: Error) => {
      assert.ok(error instanceof ValueFlagsError);
      assert.equal(error.key, "pickled");
      assert.match(error.message, /undecodable: "bytes"/);
      assert.deepEqual({ ...error.found }, { a: "A", b: "B" });
      return true;
    });
    assert.equal(await client.set("after", "ok"), true);
    assert.equal(await client.get("after"), "ok");
    await using lenient = clientFor([server.port], { undecodable: "bytes" });
    assert.deepEqual(await lenient.get("pickled"), pickle);
  });

  test("1000 concurrent calls are pipelined and each gets its own reply", async () => {
    await using server = await target.start();
    await using client = clientFor([server.port]);
    const count = 1000;
    const sets = await Promise.all(
      Array.from({ length: count }, (_, i) => client.set(`key:${i}`, `value ${i}`)),
    );
    assert.ok(sets.every(Boolean));
    const values = await Promise.all(
      Array.from({ length: count }, (_, i) => client.get(`key:${i}`)),
    );
    values.forEach((v, i) => assert.equal(v, `value ${i}`));
    const [[, stats]] = await client.stats();
    // One connection carried them all.
    assert.ok(Number(stats.curr_connections) <= 3, stats.curr_connections);
  });

  test("getMulti, setMulti and deleteMulti span three weighted servers", async () => {
    await using cluster = await startMany(target, 3);
    await using client = new Client(
      [
        `127.0.0.1:${cluster.ports[0]}`,
        [`127.0.0.1:${cluster.ports[1]}`, 2],
        `127.0.0.1:${cluster.ports[2]}`,
      ],
      { keyPrefix: "app:" },
    );
    // Some UTF-8 keys too: getMulti must route each key's bytes as set did.
    const entries = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [i % 10 === 0 ? `ключ${i}` : `k${i}`, i]),
    );
    assert.deepEqual(await client.setMulti(entries), []);
    const found = await client.getMulti([...Object.keys(entries), "missing"]);
    assert.deepEqual(found, { __proto__: null, ...entries });
    // Keys were stored with the prefix, spread over every server.
    for (const port of cluster.ports) {
      await using one = clientFor([port]);
      const held = await one.getMulti(Object.keys(entries), { keyPrefix: "app:" });
      assert.ok(Object.keys(held).length > 30, `server ${port} holds ${Object.keys(held).length}`);
    }
    assert.equal(await client.get("app:k1"), 1);
    assert.equal(await client.deleteMulti(["k1", "k2", "never"]), true);
    assert.deepEqual(await client.getMulti(["k1", "k2", "k3"]), { __proto__: null, k3: 3 });
    assert.deepEqual(await client.getMulti([]), { __proto__: null });
  });

  test("getMulti keeps keys named like Object.prototype's properties as plain keys", async () => {
    await using server = await target.start();
    await using client = clientFor([server.port]);
    assert.equal(await client.set("__proto__", "p"), true);
    assert.equal(await client.set("constructor", { c: 1 }), true);
    const found = await client.getMulti(["__proto__", "constructor", "toString", "hasOwnProperty"]);
    assert.deepEqual(Object.keys(found), ["__proto__", "constructor"]);
    assert.equal(found["__proto__"], "p");
    assert.deepEqual(found["constructor"], { c: 1 });
    assert.equal(found["toString"], undefined);
    assert.equal("hasOwnProperty" in found, false);
  });

  test("getMulti answers ASCII, UTF-8 and repeated keys; its byte values stay whole", async () => {
    await using server = await target.start();
    await using client = clientFor([server.port]);
    const bytes = (i: number) => new Uint8Array(100 + (i % 7)).fill(i & 0xff);
    const keys = Array.from({ length: 300 }, (_, i) => (i % 10 === 3 ? `ключ:${i}` : `k:${i}`));
    assert.deepEqual(await client.setMulti(keys.map((k, i) => [k, bytes(i)] as const)), []);
    const asked = [...keys.slice(0, 100), "k:5", "ключ:13", "missing", "ключ:missing"];
    const found = await client.getMulti<Uint8Array>(asked);
    assert.deepEqual(Object.keys(found).sort(), keys.slice(0, 100).sort());
    // Later replies must not overwrite the values already handed out.
    for (let round = 0; round < 5; round++) await client.getMulti(keys.slice(100));
    keys.slice(0, 100).forEach((k, i) => assert.deepEqual(found[k], bytes(i), k));
    // A batch of ASCII keys only goes out as one encoded line.
    const ascii = keys.filter((k) => k.startsWith("k:")).slice(0, 50);
    const plain = await client.getMulti<Uint8Array>(ascii);
    ascii.forEach((k) => assert.deepEqual(plain[k], bytes(keys.indexOf(k)), k));
    for (const bad of ["not fine", "tab\there", "del\x7f", ""]) {
      await assert.rejects(client.getMulti(["fine", bad]), bad === "" ? RangeError : TypeError);
    }
  });

  test("failover: a killed server's keys miss, others answer, it rejoins after deadRetry", async () => {
    await using cluster = await startMany(target, 3);
    const deadRetry = 0.5;
    await using client = clientFor(cluster.ports, { deadRetry, socketTimeout: 1 });
    const keys = Array.from({ length: 150 }, (_, i) => `fo${i}`);
    assert.deepEqual(await client.setMulti(keys.map((k) => [k, k] as const)), []);
    // Which server holds each key, asking each directly.
    const owner = new Map<string, number>();
    for (const [i, port] of cluster.ports.entries()) {
      await using one = clientFor([port]);
      for (const k of Object.keys(await one.getMulti(keys))) owner.set(k, i);
    }
    assert.equal(owner.size, keys.length);
    const victim = cluster.servers[1];
    const victimPort = victim.port;
    await victim[Symbol.asyncDispose]();

    const started = performance.now();
    const first = await Promise.allSettled(keys.map((k) => client.get(k)));
    assert.ok(performance.now() - started < 1500, "calls answered within their timeout");
    first.forEach((r, i) => {
      if (owner.get(keys[i]) === 1) {
        if (r.status === "rejected") assert.ok(r.reason instanceof ConnectionError);
        else assert.equal(r.value, undefined);
      } else {
        assert.deepEqual(r, { status: "fulfilled", value: keys[i] });
      }
    });
    // Marked dead: its keys now go elsewhere and miss; the others still hit.
    const multi = await client.getMulti(keys);
    for (const k of keys) assert.equal(multi[k], owner.get(k) === 1 ? undefined : k, k);
    const again = await Promise.all(keys.map((k) => client.get(k)));
    again.forEach((v, i) => assert.equal(v, owner.get(keys[i]) === 1 ? undefined : keys[i]));

    await using revived = await target.start(victimPort);
    await new Promise((r) => setTimeout(r, deadRetry * 1000 + 50));
    const back = keys.filter((k) => owner.get(k) === 1);
    assert.deepEqual(await client.setMulti(back.map((k) => [k, "again"] as const)), []);
    await using direct = clientFor([revived.port]);
    assert.equal(Object.keys(await direct.getMulti(back)).length, back.length);
  });
}

Deno.test("Client times out on a server that never answers, and marks it dead", async () => {
  await using silent = silentServer();
  await using client = clientFor([silent.port], { socketTimeout: 0.2, deadRetry: 60 });
  const started = performance.now();
  const results = await Promise.allSettled([client.get("a"), client.set("b", 1)]);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 190 && elapsed < 1000, `took ${elapsed} ms`);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.ok(r.reason instanceof TimeoutError, String(r.reason));
    assert.equal(r.reason.server, `127.0.0.1:${silent.port}`);
    assert.match(
      r.reason.message,
      new RegExp(`127\\.0\\.0\\.1:${silent.port}: no reply within 0\\.2 s`),
    );
  }
  // Within its back-off the one server is not tried again, and every call says why.
  for (
    const call of [() => client.get("a"), () => client.getMulti(["a", "b"]), () => client.stats()]
  ) {
    await assert.rejects(call, (error: Error) => {
      assert.ok(error instanceof NoServerError, String(error));
      assert.equal(error.server, `127.0.0.1:${silent.port}`);
      assert.ok(error.message.includes(`127.0.0.1:${silent.port}`), error.message);
      assert.ok(error.cause instanceof TimeoutError, String(error.cause));
      return true;
    });
  }
});

Deno.test("Client fails a connection that breaks mid-reply, then reconnects", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverLoop = (async () => {
    let n = 0;
    for await (const conn of listener) {
      const buf = new Uint8Array(1024);
      await conn.read(buf);
      if (n++ === 0) {
        await conn.write(encoder.encode("VALUE k 0 10\r\nabc"));
        conn.close();
      } else {
        await conn.write(encoder.encode("VALUE k 16 2\r\nok\r\nEND\r\n"));
        await conn.read(buf).catch(() => null);
        conn.close();
        break;
      }
    }
  })();
  try {
    await using client = clientFor([(listener.addr as Deno.NetAddr).port], { deadRetry: 0 });
    await assert.rejects(client.get("k"), ConnectionError);
    assert.equal(await client.get("k"), "ok");
  } finally {
    listener.close();
    await serverLoop.catch(() => {});
  }
});

Deno.test("Client getMulti takes hits out of request order, as a proxy may merge them", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverLoop = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(1024);
      const n = await conn.read(buf);
      const asked = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      // Answers "get a b c" with c, then a twice, then an unasked key, b missing.
      assert.equal(asked, "get a b c\r\n");
      await conn.write(encoder.encode(
        "VALUE c 16 2\r\ncc\r\nVALUE a 16 2\r\naa\r\nVALUE a 16 2\r\naa\r\n" +
          "VALUE z 16 2\r\nzz\r\nEND\r\n",
      ));
      await conn.read(buf).catch(() => null);
      conn.close();
      break;
    }
  })();
  try {
    await using client = clientFor([(listener.addr as Deno.NetAddr).port]);
    assert.deepEqual(await client.getMulti(["a", "b", "c"]), { __proto__: null, c: "cc", a: "aa" });
  } finally {
    listener.close();
    await serverLoop.catch(() => {});
  }
});

Deno.test("Client getMulti keeps the hits read before a reply breaks, and no other key", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverLoop = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(1024);
      await conn.read(buf);
      await conn.write(encoder.encode("VALUE a 16 2\r\naa\r\nVALUE b 16 2\r\nb"));
      conn.close();
    }
  })();
  try {
    await using client = clientFor([(listener.addr as Deno.NetAddr).port], { deadRetry: 0 });
    const found = await client.getMulti(["a", "b", "c"]);
    assert.deepEqual(found, { __proto__: null, a: "aa" });
    assert.deepEqual(Object.keys(found), ["a"]);
  } finally {
    listener.close();
    await serverLoop.catch(() => {});
  }
});

Deno.test("Client refuses bad keys and oversized values before sending anything", async () => {
  await using silent = silentServer();
  await using client = clientFor([silent.port], { serverMaxValueLength: 100 });
  await assert.rejects(client.set("has space", 1), TypeError);
  await assert.rejects(client.get("ctl\x01"), TypeError);
  await assert.rejects(client.get(""), RangeError);
  await assert.rejects(client.get("x".repeat(251)), RangeError);
  await assert.rejects(client.set("v", new Uint8Array(101)), RangeError);
  await assert.rejects(client.setMulti({ ok: 1, "bad key": 2 }), TypeError);
  await assert.rejects(client.getMulti(["ok", "x".repeat(300)]), RangeError);
  await assert.rejects(client.incr("n", -1), RangeError);
  await using short = clientFor([silent.port], { serverMaxKeyLength: 10, keyPrefix: "pre:" });
  await assert.rejects(short.getMulti(["1234567"]), RangeError);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(silent.state.bytes, 0);
  assert.equal(silent.state.accepted, 0);
});

Deno.test("Client rejects aborted calls without losing step with the server", async () => {
  await using server = await startOurs();
  await using client = clientFor([server.port]);
  const aborted = new AbortController();
  aborted.abort(new Error("stop"));
  await assert.rejects(client.get("k", { signal: aborted.signal }), /stop/);
  await client.set("k", "v");
  const controller = new AbortController();
  const pending = client.get("k", { signal: controller.signal });
  const other = client.get("k");
  controller.abort(new Error("late"));
  await assert.rejects(pending, /late/);
  assert.equal(await other, "v");
  assert.equal(await client.get("k"), "v");

  await using silent = silentServer();
  await using stuck = clientFor([silent.port], { socketTimeout: 10 });
  const hang = new AbortController();
  const started = performance.now();
  const call = stuck.get("k", { signal: hang.signal });
  setTimeout(() => hang.abort(new Error("gave up")), 50);
  await assert.rejects(call, /gave up/);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("Client routes with ketama or a router of its own", async () => {
  await using a = await startOurs();
  await using b = await startOurs();
  const ports = [a.port, b.port];
  await using ketama = clientFor(ports, { routing: "ketama" });
  await ketama.setMulti(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`r${i}`, i])));
  assert.equal(
    Object.keys(await ketama.getMulti(Array.from({ length: 50 }, (_, i) => `r${i}`))).length,
    50,
  );
  await using second = clientFor(ports, { routing: { pick: () => 1 } });
  await second.set("only-b", 1);
  await using onB = clientFor([b.port]);
  assert.equal(await onB.get("only-b"), 1);
});

Deno.test("Client rejects calls after close", async () => {
  await using server = await startOurs();
  const client = clientFor([server.port]);
  await client.set("k", 1);
  client.close();
  await assert.rejects(client.get("k"), ConnectionError);
  await assert.rejects(client.stats(), ConnectionError);
});

Deno.test({
  name: "Client speaks TLS to a memcached started with -Z",
  ignore: !hasMemcached() || !hasPeer("openssl", "openssl", ["version"]),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // A CA and a leaf certificate for 127.0.0.1, signed by it.
      const openssl = async (...args: string[]) => {
        const out = await new Deno.Command("openssl", {
          args,
          cwd: dir,
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
      };
      await openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test ca",
      );
      await openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
      );
      await Deno.writeTextFile(
        `${dir}/ext.cnf`,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
      );
      await openssl(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
      );
      await using memcached = await startMemcached([
        "-Z",
        "-o",
        `ssl_chain_cert=${dir}/leaf.pem,ssl_key=${dir}/leaf.key`,
      ]);
      const caCerts = [await Deno.readTextFile(`${dir}/ca.pem`)];
      await using client = new Client([`127.0.0.1:${memcached.port}`], { tls: { caCerts } });
      assert.equal(await client.set("secure", "over tls"), true);
      assert.equal(await client.get("secure"), "over tls");
      await using plain = new Client([`127.0.0.1:${memcached.port}`], {
        tls: { caCerts: [] },
        connectTimeout: 0.5,
        socketTimeout: 0.5,
      });
      await assert.rejects(plain.get("secure"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("Client sends 50 concurrent calls to one server in one write", async () => {
  await using server = serve({ port: 0 });
  const connect = Deno.connect;
  let writes = 0;
  // Count the writes the client makes on its socket; everything else is the real socket.
  Deno.connect = (async (options: Deno.ConnectOptions) => {
    const conn = await connect(options);
    const write = conn.write.bind(conn);
    conn.write = (bytes: Uint8Array) => {
      writes++;
      return write(bytes);
    };
    return conn;
  }) as typeof Deno.connect;
  try {
    await using client = new Client([`127.0.0.1:${server.addr.port}`]);
    await client.set("warm", "up");
    writes = 0;
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(`k${i}`)));
    assert.deepEqual(values, Array(50).fill(undefined));
    assert.equal(writes, 1);
  } finally {
    Deno.connect = connect;
  }
});
