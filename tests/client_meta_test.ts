/**
 * The client's meta calls and getOrSet against Debian's memcached, and
 * against our server, which must answer them: only a missing memcached is
 * a skip, reported as ignored.
 */

import assert from "node:assert/strict";
import { Client, ClientError, FLAG_INTEGER, FLAG_TEXT, TimeoutError } from "../client/mod.ts";
import { serve } from "./_layer.ts";
import { hasMemcached, startMemcached } from "./_peers.ts";

interface Running extends AsyncDisposable {
  readonly port: number;
}

interface Target {
  name: string;
  /** False only for a peer that is not installed; the test is then reported ignored. */
  available: boolean;
  start: () => Promise<Running>;
}

function startOurs(): Promise<Running> {
  const server = serve({ port: 0 });
  return Promise.resolve({
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.close(),
  });
}

const TARGETS: Target[] = [
  { name: "our server", available: true, start: startOurs },
  {
    name: "Debian's memcached",
    available: hasMemcached(),
    start: () => startMemcached(["-t", "1"]),
  },
];

function clientFor(port: number): Client {
  return new Client([`127.0.0.1:${port}`]);
}

/** A promise with its resolve, for loaders the test releases. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

for (const target of TARGETS) {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({ name: `Client meta on ${target.name}: ${name}`, ignore: !target.available, fn });

  test("metaSet and metaGet round-trip values with get's flags", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    assert.equal(await client.metaGet("missing"), undefined);
    const set = await client.metaSet("text", "héllo", { ttl: 100, returnCas: true });
    assert.equal(set.stored, true);
    assert.equal(set.status, "STORED");
    assert.equal(typeof set.cas, "bigint");
    const got = await client.metaGet<string>("text", {
      cas: true,
      ttl: true,
      size: true,
      clientFlags: true,
    });
    assert.deepEqual(got, {
      value: "héllo",
      cas: set.cas,
      clientFlags: FLAG_TEXT,
      ttl: 100,
      size: 6,
      win: false,
      stale: false,
      alreadyWon: false,
    });
    await client.metaSet("n", 42);
    await client.metaSet("obj", { a: [1, 2] });
    await client.metaSet("bytes", new Uint8Array([0, 255]));
    assert.equal((await client.metaGet("n"))?.value, 42);
    assert.equal((await client.metaGet("n", { clientFlags: true }))?.clientFlags, FLAG_INTEGER);
    assert.deepEqual((await client.metaGet("obj"))?.value, { a: [1, 2] });
    assert.deepEqual((await client.metaGet("bytes"))?.value, new Uint8Array([0, 255]));
    assert.equal(await client.get("text"), "héllo");
    const headOnly = await client.metaGet("text", { value: false, ttl: true });
    assert.deepEqual(headOnly, { ttl: 100, win: false, stale: false, alreadyWon: false });
    assert.equal((await client.metaGet("text", { opaque: "req-7" }))?.opaque, "req-7");
    // t reports the TTL from before T.
    assert.equal((await client.metaGet("text", { touch: 500, ttl: true }))?.ttl, 100);
    assert.equal((await client.metaGet("text", { ttl: true, noLruBump: true }))?.ttl, 500);
    const seen = await client.metaGet("text", { hit: true, lastAccess: true, value: false });
    assert.equal(seen?.hit, true);
    assert.equal(typeof seen?.lastAccess, "number");
  });

  test("metaSet modes and cas tokens refuse as memcached does", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    assert.deepEqual(await client.metaSet("k", "a", { mode: "add" }), {
      stored: true,
      status: "STORED",
    });
    assert.equal((await client.metaSet("k", "b", { mode: "add" })).status, "NOT_STORED");
    assert.equal((await client.metaSet("nope", "b", { mode: "replace" })).status, "NOT_STORED");
    assert.equal((await client.metaSet("k", "-end", { mode: "append" })).stored, true);
    assert.equal((await client.metaSet("k", "start-", { mode: "prepend" })).stored, true);
    assert.equal(await client.get("k"), "start-a-end");
    assert.equal((await client.metaSet("nope", "x", { mode: "append" })).status, "NOT_STORED");
    const { cas } = (await client.metaGet("k", { cas: true }))!;
    assert.equal((await client.metaSet("k", "c", { cas: cas! + 1n })).status, "EXISTS");
    assert.equal((await client.metaSet("absent", "c", { cas: 1n })).status, "NOT_FOUND");
    const stored = await client.metaSet("k", "c", { cas, returnCas: true });
    assert.equal(stored.status, "STORED");
    assert.ok(stored.cas! > cas!);
    // invalidate: an older token is accepted, but the item comes back stale.
    assert.equal((await client.metaSet("k", "d", { cas, invalidate: true })).stored, true);
    const stale = await client.metaGet("k");
    assert.equal(stale?.value, "d");
    assert.equal(stale?.stale, true);
    assert.equal(stale?.win, true);
    await assert.rejects(client.metaSet("k", 5, { mode: "append" }), TypeError);
  });

  test("metaDelete deletes, checks cas, and invalidates for one recacher", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    await client.metaSet("k", "v");
    const { cas } = (await client.metaGet("k", { cas: true, value: false }))!;
    assert.deepEqual(await client.metaDelete("k", { cas: cas! + 1n }), {
      deleted: false,
      status: "EXISTS",
    });
    assert.deepEqual(await client.metaDelete("k", { invalidate: true, ttl: 30 }), {
      deleted: true,
      status: "DELETED",
    });
    const first = await client.metaGet("k", { ttl: true });
    const second = await client.metaGet("k");
    assert.deepEqual(first, { value: "v", ttl: 30, win: true, stale: true, alreadyWon: false });
    assert.deepEqual(second, { value: "v", win: false, stale: true, alreadyWon: true });
    assert.equal((await client.metaDelete("k")).status, "DELETED");
    assert.equal((await client.metaDelete("k")).status, "NOT_FOUND");
    assert.equal(await client.get("k"), undefined);
  });

  test("metaArithmetic counts, creates on a miss and checks cas", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    assert.deepEqual(await client.metaArithmetic("n"), { status: "NOT_FOUND" });
    assert.deepEqual(await client.metaArithmetic("n", { vivifyOnMiss: 0, initial: 10 }), {
      status: "STORED",
      value: 10,
    });
    assert.equal((await client.metaArithmetic("n", { delta: 5 })).value, 15);
    const down = await client.metaArithmetic("n", {
      mode: "decrement",
      delta: 100n,
      returnCas: true,
      returnTtl: true,
    });
    assert.equal(down.value, 0);
    assert.equal(down.ttl, -1);
    assert.equal(typeof down.cas, "bigint");
    assert.equal((await client.metaArithmetic("n", { cas: down.cas! + 1n })).status, "EXISTS");
    assert.equal((await client.metaArithmetic("n", { cas: down.cas, ttl: 60 })).value, 1);
    assert.equal((await client.metaGet("n", { ttl: true }))?.ttl, 60);
    await client.set("big", 2n ** 64n - 2n);
    assert.equal((await client.metaArithmetic("big")).value, 2n ** 64n - 1n);
    await client.set("text", "abc");
    await assert.rejects(client.metaArithmetic("text"), ClientError);
    // A counter vivifyOnMiss created has client flags 0: get sees its bytes.
    assert.equal((await client.metaArithmetic("n", { delta: 0 })).value, 1);
    assert.ok((await client.get("n")) instanceof Uint8Array);
  });

  test("metaGet vivifyOnMiss and recacheBelow pick one winner", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    const [a, b, c] = await Promise.all(
      [1, 2, 3].map(() => client.metaGet("k", { vivifyOnMiss: 30, cas: true })),
    );
    assert.equal(a?.win, true);
    assert.deepEqual(a?.value, new Uint8Array(0));
    assert.equal(b?.win, false);
    assert.equal(b?.alreadyWon, true);
    assert.equal(c?.alreadyWon, true);
    assert.equal((await client.metaSet("k", "loaded", { cas: a!.cas, ttl: 100 })).stored, true);
    assert.deepEqual(await client.metaGet("k", { recacheBelow: 50 }), {
      value: "loaded",
      win: false,
      stale: false,
      alreadyWon: false,
    });
    const refresh = await client.metaGet("k", { recacheBelow: 200 });
    const other = await client.metaGet("k", { recacheBelow: 200 });
    assert.equal(refresh?.win, true);
    assert.deepEqual(other, { value: "loaded", win: false, stale: false, alreadyWon: true });
  });

  test("100 concurrent getOrSet calls on an expired hot key run the loader once", async () => {
    await using server = await target.start();
    const clients = Array.from({ length: 4 }, () => clientFor(server.port));
    try {
      await clients[0].set("hot", "expired", { ttl: -1 });
      let calls = 0;
      const loader = async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 50));
        return { rows: 3 };
      };
      const values = await Promise.all(
        Array.from({ length: 100 }, (_, i) => clients[i % 4].getOrSet("hot", loader, { ttl: 60 })),
      );
      assert.equal(calls, 1);
      assert.deepEqual(values, Array(100).fill({ rows: 3 }));
      assert.deepEqual(await clients[0].get("hot"), { rows: 3 });
      // The value is cached now: later callers never call the loader.
      assert.deepEqual(await clients[1].getOrSet("hot", loader, { ttl: 60 }), { rows: 3 });
      assert.equal(calls, 1);
    } finally {
      for (const client of clients) client.close();
    }
  });

  test("getOrSet serves the stale value while one caller refreshes it", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    await using other = clientFor(server.port);
    // 100 s left is inside the 300 s stale window: the item is going stale.
    await client.set("report", "old", { ttl: 100 });
    const release = deferred();
    let calls = 0;
    const loader = async () => {
      calls++;
      await release.promise;
      return "new";
    };
    const options = { ttl: 60, staleTtl: 300 };
    const winner = client.getOrSet("report", loader, options);
    const losers = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => (i % 2 ? client : other).getOrSet("report", loader, options),
      ),
    );
    assert.deepEqual(losers, Array(20).fill("old"));
    assert.equal(calls, 1);
    release.resolve();
    assert.equal(await winner, "new");
    const fresh = await client.metaGet("report", { ttl: true });
    assert.equal(fresh?.value, "new");
    assert.ok(fresh!.ttl! > 300 && fresh!.ttl! <= 360, `ttl ${fresh?.ttl}`);
    assert.equal(await other.getOrSet("report", loader, options), "new");
    assert.equal(calls, 1);
  });

  test("getOrSet gives the win back when the loader throws", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      if (calls === 1) throw new Error("database down");
      return "loaded";
    };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => client.getOrSet("k", loader, { ttl: 60 })),
    );
    assert.equal(calls, 2);
    const failed = results.filter((r) => r.status === "rejected");
    assert.equal(failed.length, 1);
    assert.equal((failed[0] as PromiseRejectedResult).reason.message, "database down");
    assert.deepEqual(
      results.filter((r) => r.status === "fulfilled").map((r) => r.value),
      Array(9).fill("loaded"),
    );

    // A failed refresh keeps the old value readable and lets the next caller try.
    await client.set("aging", "old", { ttl: 100 });
    const options = { ttl: 60, staleTtl: 300 };
    await assert.rejects(
      client.getOrSet("aging", () => Promise.reject(new Error("still down")), options),
      /still down/,
    );
    assert.equal(await client.get("aging"), "old");
    assert.equal(await client.getOrSet("aging", () => "new", options), "new");
    assert.equal(await client.get("aging"), "new");
  });

  test("getOrSet keeps a value loaded across an invalidation, but stale", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    const release = deferred();
    const loading = client.getOrSet("k", async () => {
      await release.promise;
      return "v1";
    }, { ttl: 60 });
    // Wait until the winner holds the placeholder, then invalidate under it.
    while ((await client.metaGet("k", { value: false }))?.alreadyWon !== true) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await client.metaDelete("k", { invalidate: true });
    release.resolve();
    assert.equal(await loading, "v1");
    // Stored, but stale: the next caller wins and reloads, the one after reads v1 meanwhile.
    const reload = deferred();
    const next = client.getOrSet("k", async () => {
      await reload.promise;
      return "v2";
    }, { ttl: 60 });
    assert.equal(await client.getOrSet("k", () => "v3", { ttl: 60 }), "v1");
    reload.resolve();
    assert.equal(await next, "v2");
    assert.equal(await client.get("k"), "v2");
  });

  test("getOrSet stops waiting for a winner after maxWait", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    // Another caller won and never stores.
    assert.equal((await client.metaGet("k", { vivifyOnMiss: 30 }))?.win, true);
    let calls = 0;
    await assert.rejects(
      client.getOrSet("k", () => ++calls, { ttl: 60, maxWait: 0.05 }),
      TimeoutError,
    );
    assert.equal(calls, 0);
    const aborted = AbortSignal.abort(new Error("gave up"));
    await assert.rejects(
      client.getOrSet("k", () => ++calls, { ttl: 60, signal: aborted }),
      /gave up/,
    );
  });

  test("50 concurrent getOrSet calls leave in one write", async () => {
    await using server = await target.start();
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
      await using client = clientFor(server.port);
      await client.metaSet("warm", "up");
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.metaSet(`k${i}`, i)));
      writes = 0;
      const values = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.getOrSet(`k${i}`, () => -1, { ttl: 60 })),
      );
      assert.deepEqual(values, Array.from({ length: 50 }, (_, i) => i));
      assert.equal(writes, 1);
    } finally {
      Deno.connect = connect;
    }
  });

  test("meta calls are pipelined with the classic ones, in order", async () => {
    await using server = await target.start();
    await using client = clientFor(server.port);
    const results = await Promise.all([
      client.set("a", "1"),
      client.metaGet("a"),
      client.metaSet("b", 2),
      client.get("b"),
      client.metaArithmetic("b", { delta: 3 }),
      client.metaDelete("a"),
      client.get("a"),
      client.metaGet("b", { value: false }),
    ]);
    assert.deepEqual(results, [
      true,
      { value: "1", win: false, stale: false, alreadyWon: false },
      { stored: true, status: "STORED" },
      2,
      { status: "STORED", value: 5 },
      { deleted: true, status: "DELETED" },
      undefined,
      { win: false, stale: false, alreadyWon: false },
    ]);
  });
}

Deno.test("Client meta calls refuse bad options before sending anything", async () => {
  // Nothing listens here: a request that got as far as sending would fail otherwise.
  await using client = new Client(["127.0.0.1:1"]);
  const noop = () => 1;
  await assert.rejects(client.metaGet("k", { touch: 1.5 }), RangeError);
  await assert.rejects(client.metaGet("bad key"), TypeError);
  await assert.rejects(client.metaGet("k", { opaque: "has space" }), TypeError);
  await assert.rejects(client.metaGet("k", { opaque: "x".repeat(33) }), TypeError);
  await assert.rejects(client.metaSet("k", undefined), TypeError);
  await assert.rejects(
    client.metaSet("k", "v", { mode: "upsert" as "set" }),
    TypeError,
  );
  await assert.rejects(client.metaSet("k", "v", { invalidate: true }), TypeError);
  await assert.rejects(client.metaSet("k", "v", { cas: 5 as unknown as bigint }), TypeError);
  await assert.rejects(client.metaSet("k", "v", { cas: -1n }), RangeError);
  await assert.rejects(client.metaDelete("k", { ttl: 30 }), TypeError);
  await assert.rejects(client.metaArithmetic("k", { delta: -1 }), RangeError);
  await assert.rejects(client.metaArithmetic("k", { delta: 2n ** 64n }), RangeError);
  await assert.rejects(client.metaArithmetic("k", { initial: 1 }), TypeError);
  await assert.rejects(client.getOrSet("k", noop, { ttl: -1 }), RangeError);
  await assert.rejects(client.getOrSet("k", noop, { ttl: 0, staleTtl: 10 }), RangeError);
  await assert.rejects(client.getOrSet("k", noop, { ttl: 60, lockTtl: 0 }), RangeError);
  await assert.rejects(
    client.getOrSet("k", "nope" as unknown as () => number, { ttl: 60 }),
    TypeError,
  );
});
