import assert from "node:assert/strict";
import { ManualClock, type ServeOptions } from "../server/mod.ts";
import { serve } from "./_layer.ts";
import { Wire } from "./_wire.ts";

function start(options: ServeOptions = {}) {
  return serve({ port: 0, ...options });
}

Deno.test("server stores and returns a value, flags kept opaque", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  assert.equal(await wire.call("set k 4294967295 0 5\r\nhello\r\n"), "STORED\r\n");
  assert.equal(await wire.call("get k\r\n", "END\r\n"), "VALUE k 4294967295 5\r\nhello\r\nEND\r\n");
  assert.equal(await wire.call("get nope\r\n", "END\r\n"), "END\r\n");
});

Deno.test("server answers add, replace, append and prepend as memcached", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  assert.equal(await wire.call("add k 1 0 2\r\nv1\r\n"), "STORED\r\n");
  assert.equal(await wire.call("add k 0 0 2\r\nv2\r\n"), "NOT_STORED\r\n");
  assert.equal(await wire.call("replace nope 0 0 1\r\nx\r\n"), "NOT_STORED\r\n");
  assert.equal(await wire.call("append k 9 0 5\r\nafter\r\n"), "STORED\r\n");
  assert.equal(await wire.call("prepend k 9 0 6\r\nbefore\r\n"), "STORED\r\n");
  assert.equal(await wire.call("append nope 0 0 1\r\nx\r\n"), "NOT_STORED\r\n");
  assert.equal(await wire.call("get k\r\n", "END\r\n"), "VALUE k 1 13\r\nbeforev1after\r\nEND\r\n");
});

Deno.test("server gives a new cas unique per change and checks it", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  await wire.call("set k 0 0 3\r\n900\r\n");
  const first = /VALUE k 0 3 (\d+)\r\n/.exec(await wire.call("gets k\r\n", "END\r\n"))![1];
  assert.equal(await wire.call(`cas k 0 0 3 ${first}\r\n899\r\n`), "STORED\r\n");
  assert.equal(await wire.call(`cas k 0 0 3 ${first}\r\n898\r\n`), "EXISTS\r\n");
  assert.equal(await wire.call(`cas nope 0 0 1 ${first}\r\nx\r\n`), "NOT_FOUND\r\n");
  const second = /VALUE k 0 3 (\d+)\r\n/.exec(await wire.call("gets k\r\n", "END\r\n"))![1];
  assert.notEqual(second, first);
});

Deno.test("server suppresses replies on noreply and still applies the command", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  await wire.send("set k 0 0 1 noreply\r\n1\r\nincr k 5 noreply\r\nadd k 0 0 1 noreply\r\nx\r\n");
  assert.equal(await wire.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\n6\r\nEND\r\n");
});

Deno.test("server answers pipelined requests in order", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  const requests = Array.from(
    { length: 100 },
    (_, i) => `set k${i} 0 0 ${String(i).length}\r\n${i}\r\nget k${i}\r\n`,
  );
  const expected = Array.from(
    { length: 100 },
    (_, i) => `STORED\r\nVALUE k${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`,
  );
  assert.equal(await wire.call(requests.join(""), "k99 0 2\r\n99\r\nEND\r\n"), expected.join(""));
});

Deno.test("server wraps incr at 2^64, stops decr at 0 and refuses non-numbers", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  await wire.call("set n 0 0 20\r\n18446744073709551615\r\n");
  assert.equal(await wire.call("incr n 2\r\n"), "1\r\n");
  assert.equal(await wire.call("decr n 5\r\n"), "0\r\n");
  await wire.call("set n 0 0 3\r\n777\r\n");
  assert.equal(await wire.call("incr n 1\r\n"), "778\r\n");
  assert.equal(await wire.call("incr n 10\r\n"), "788\r\n");
  assert.equal(await wire.call("decr n 1\r\n"), "787\r\n");
  assert.equal(await wire.call("decr n 10\r\n"), "777\r\n");
  await wire.call("set s 0 0 3\r\nabc\r\n");
  assert.equal(
    await wire.call("incr s 1\r\n"),
    "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
  );
  assert.equal(await wire.call("incr nope 1\r\n"), "NOT_FOUND\r\n");
});

Deno.test("server expires items by relative, absolute and negative exptime", async () => {
  const clock = new ManualClock();
  await using server = start({ clock });
  using wire = await Wire.connect(server.addr.port);
  const absolute = clock.unixTime() + 100 * 24 * 3600;
  await wire.call("set rel 0 10 1\r\na\r\n");
  await wire.call(`set abs 0 ${absolute} 1\r\nb\r\n`);
  await wire.call("set neg 0 -1 1\r\nc\r\n");
  await wire.call(`set past 0 ${clock.unixTime() - 3600 * 24 * 31} 1\r\nd\r\n`);
  assert.equal(
    await wire.call("get rel abs neg past\r\n", "END\r\n"),
    "VALUE rel 0 1\r\na\r\nVALUE abs 0 1\r\nb\r\nEND\r\n",
  );
  clock.advance(10);
  assert.equal(await wire.call("get rel abs\r\n", "END\r\n"), "VALUE abs 0 1\r\nb\r\nEND\r\n");
  assert.equal(await wire.call("touch abs 5\r\n"), "TOUCHED\r\n");
  clock.advance(5);
  assert.equal(await wire.call("get abs\r\n", "END\r\n"), "END\r\n");
});

Deno.test("server flushes now, and with a delay at that time", async () => {
  const clock = new ManualClock();
  await using server = start({ clock });
  using wire = await Wire.connect(server.addr.port);
  await wire.call("set a 0 0 1\r\na\r\n");
  assert.equal(await wire.call("flush_all\r\n"), "OK\r\n");
  assert.equal(await wire.call("get a\r\n", "END\r\n"), "END\r\n");
  await wire.call("set b 0 0 1\r\nb\r\n");
  assert.equal(await wire.call("flush_all 10\r\n"), "OK\r\n");
  clock.advance(5);
  assert.equal(await wire.call("get b\r\n", "END\r\n"), "VALUE b 0 1\r\nb\r\nEND\r\n");
  clock.advance(6);
  assert.equal(await wire.call("get b\r\n", "END\r\n"), "END\r\n");
});

Deno.test("server refuses an item over -I, reads its data, and drops the old value", async () => {
  await using server = start({ maxItemSize: 1024 });
  using wire = await Wire.connect(server.addr.port);
  await wire.call("set k 0 0 1\r\nx\r\n");
  assert.equal(
    await wire.call(`set k 0 0 2000\r\n${"y".repeat(2000)}\r\n`),
    "SERVER_ERROR object too large for cache\r\n",
  );
  assert.equal(await wire.call("get k\r\n", "END\r\n"), "END\r\n");
});

Deno.test("server answers bad input with memcached's errors and stays in step", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  assert.equal(await wire.call("bogus\r\n"), "ERROR\r\n");
  assert.equal(
    await wire.call(`get ${"k".repeat(251)}\r\n`),
    "CLIENT_ERROR bad command line format\r\n",
  );
  assert.equal(
    await wire.call("set k 0 0 1\r\nxyz\r\n", "ERROR\r\n"),
    "CLIENT_ERROR bad data chunk\r\nERROR\r\n",
  );
  assert.equal(await wire.call("version\r\n"), "VERSION 1.6.18\r\n");
});

Deno.test("server evicts the least recently used items under -m and counts them", async () => {
  await using server = start({ memoryLimit: 2 * 1024 * 1024, maxItemSize: 1024 * 1024 });
  using wire = await Wire.connect(server.addr.port);
  const value = "v".repeat(1000);
  await wire.call("set first 0 0 1000\r\n" + value + "\r\n");
  for (let i = 0; i < 5000; i++) {
    await wire.send(`set key:${i} 0 0 1000 noreply\r\n${value}\r\n`);
    if (i % 100 === 0) await wire.call("get first\r\n", "END\r\n");
  }
  const stats = await wire.call("stats\r\n", "END\r\n");
  assert.ok(Number(/STAT evictions (\d+)/.exec(stats)![1]) > 0, "evictions counted");
  assert.ok(Number(/STAT curr_items (\d+)/.exec(stats)![1]) < 5000);
  assert.equal(
    await wire.call("get first\r\n", "END\r\n"),
    `VALUE first 0 1000\r\n${value}\r\nEND\r\n`,
  );
  assert.equal(await wire.call("get key:0\r\n", "END\r\n"), "END\r\n");
});

Deno.test("server with evictions off answers out of memory instead", async () => {
  await using server = start({
    memoryLimit: 2 * 1024 * 1024,
    maxItemSize: 1024 * 1024,
    evictions: false,
  });
  using wire = await Wire.connect(server.addr.port);
  const value = "v".repeat(1000);
  let reply = "";
  for (let i = 0; i < 5000 && reply !== "SERVER_ERROR out of memory storing object\r\n"; i++) {
    reply = await wire.call(`set key:${i} 0 0 1000\r\n${value}\r\n`);
  }
  assert.equal(reply, "SERVER_ERROR out of memory storing object\r\n");
  assert.equal(
    await wire.call("get key:0\r\n", "END\r\n"),
    `VALUE key:0 0 1000\r\n${value}\r\nEND\r\n`,
  );
});

Deno.test("server refuses connections past -c and counts them", async () => {
  await using server = start({ maxConnections: 2 });
  using a = await Wire.connect(server.addr.port);
  using b = await Wire.connect(server.addr.port);
  await a.call("version\r\n");
  await b.call("version\r\n");
  using c = await Wire.connect(server.addr.port);
  assert.equal(await c.readUntil("\r\n"), "ERROR Too many open connections\r\n");
  assert.ok(await c.closedByPeer());
  const stats = await a.call("stats\r\n", "END\r\n");
  assert.match(stats, /STAT rejected_connections 1\r\n/);
  assert.match(stats, /STAT curr_connections 2\r\n/);
});

Deno.test("server closes on quit and on 2049 bytes with no newline", async () => {
  await using server = start();
  using quitter = await Wire.connect(server.addr.port);
  await quitter.send("quit\r\nversion\r\n");
  assert.ok(await quitter.closedByPeer());
  using flooder = await Wire.connect(server.addr.port);
  await flooder.send("x".repeat(3000));
  assert.ok(await flooder.closedByPeer());
  using after = await Wire.connect(server.addr.port);
  assert.equal(await after.call("version\r\n"), "VERSION 1.6.18\r\n");
});

Deno.test("server forgets a client that disconnects mid-request", async () => {
  await using server = start();
  for (let i = 0; i < 20; i++) {
    const wire = await Wire.connect(server.addr.port);
    await wire.send("set k 0 0 100000\r\npartial");
    wire[Symbol.dispose]();
  }
  using wire = await Wire.connect(server.addr.port);
  assert.equal(await wire.call("get k\r\n", "END\r\n"), "END\r\n");
  const stats = await wire.call("stats\r\n", "END\r\n");
  assert.match(stats, /STAT curr_connections 1\r\n/);
});

Deno.test("server runs shutdown only when enabled", async () => {
  await using plain = start();
  using wire = await Wire.connect(plain.addr.port);
  assert.equal(await wire.call("shutdown\r\n"), "ERROR: shutdown not enabled\r\n");
  const enabled = start({ enableShutdown: true });
  using other = await Wire.connect(enabled.addr.port);
  assert.equal(await other.call("shutdown bogus\r\n"), "CLIENT_ERROR invalid shutdown mode\r\n");
  await other.send("shutdown\r\n");
  assert.ok(await other.closedByPeer());
  await enabled.finished;
});

Deno.test("server stats carry memcached's field names", async () => {
  await using server = start();
  using wire = await Wire.connect(server.addr.port);
  await wire.call("set k 0 0 1\r\nx\r\n");
  await wire.call("get k nope\r\n", "END\r\n");
  const stats = await wire.call("stats\r\n", "END\r\n");
  for (
    const name of [
      "pid",
      "uptime",
      "time",
      "version",
      "curr_connections",
      "total_connections",
      "cmd_get",
      "cmd_set",
      "get_hits",
      "get_misses",
      "bytes",
      "curr_items",
      "total_items",
      "evictions",
      "limit_maxbytes",
      "threads",
    ]
  ) {
    assert.match(stats, new RegExp(`\r\nSTAT ${name} |^STAT ${name} `), name);
  }
  assert.match(stats, /STAT cmd_get 2\r\n/);
  assert.match(stats, /STAT get_hits 1\r\n/);
  assert.match(stats, /STAT get_misses 1\r\n/);
  assert.match(stats, /STAT curr_items 1\r\n/);
  assert.equal(await wire.call("stats reset\r\n"), "RESET\r\n");
  assert.match(await wire.call("stats\r\n", "END\r\n"), /STAT cmd_get 0\r\n/);
  assert.match(await wire.call("stats settings\r\n", "END\r\n"), /STAT maxbytes 67108864\r\n/);
  assert.match(await wire.call("stats items\r\n", "END\r\n"), /STAT items:\d+:number 1\r\n/);
  assert.match(await wire.call("stats slabs\r\n", "END\r\n"), /STAT active_slabs 1\r\n/);
  assert.match(await wire.call("stats conns\r\n", "END\r\n"), /:state conn_parse_cmd\r\n/);
  assert.equal(await wire.call("stats bogus\r\n"), "ERROR\r\n");
});

Deno.test("server keeps a client that never reads to a bounded buffer", async () => {
  await using server = start();
  using writer = await Wire.connect(server.addr.port);
  await writer.call(`set big 0 0 500000\r\n${"b".repeat(500000)}\r\n`);
  const before = Deno.memoryUsage().rss;
  using greedy = await Wire.connect(server.addr.port);
  // 2000 gets of a 500 KB value ask for 1 GB of replies; the client reads none of them.
  const sending = (async () => {
    for (let i = 0; i < 200; i++) await greedy.send("get big\r\n".repeat(10));
  })();
  await Promise.race([sending, new Promise((r) => setTimeout(r, 1000))]);
  const grown = Deno.memoryUsage().rss - before;
  assert.ok(grown < 64 * 1024 * 1024, `memory grew by ${grown} bytes`);
  assert.equal(await writer.call("get nope\r\n", "END\r\n"), "END\r\n");
  greedy[Symbol.dispose]();
  await sending.catch(() => {});
});

Deno.test("server keeps two paused multi-gets apart", async () => {
  await using server = start({ memoryLimit: 256 * 1024 * 1024 });
  using writer = await Wire.connect(server.addr.port);
  const value = (tag: string) => tag.repeat(500000);
  for (let i = 0; i < 20; i++) {
    await writer.call(`set a${i} 0 0 500000\r\n${value("a")}\r\n`);
    await writer.call(`set b${i} 0 0 500000\r\n${value("b")}\r\n`);
  }
  const keys = (tag: string) => Array.from({ length: 20 }, (_, i) => `${tag}${i}`);
  const expected = (tag: string) =>
    keys(tag).map((k) => `VALUE ${k} 0 500000\r\n${value(tag)}\r\n`).join("") + "END\r\n";
  // The first reply (10 MB) pauses mid-get while its client is not reading; the second runs
  // to its end meanwhile. Each must still get its own keys.
  using first = await Wire.connect(server.addr.port);
  await first.send(`get ${keys("a").join(" ")}\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  using second = await Wire.connect(server.addr.port);
  assert.equal(await second.call(`get ${keys("b").join(" ")}\r\n`, "END\r\n"), expected("b"));
  assert.equal(await first.readUntil("END\r\n"), expected("a"));
});

Deno.test("server answers single gets from many connections at once, each its own, in order", async () => {
  await using server = start();
  const clients = await Promise.all(
    Array.from({ length: 40 }, () => Wire.connect(server.addr.port)),
  );
  try {
    await Promise.all(
      clients.map((c, i) => c.call(`set k${i} ${i} 0 ${`${i}`.length}\r\n${i}\r\n`)),
    );
    for (let round = 0; round < 5; round++) {
      // Every connection's get arrives in the same few event-loop turns; a set follows each get
      // on the same connection, and its own next get must see it. mn marks the reply's end.
      const request = (i: number) =>
        `get k${i}\r\nset k${i} ${i} 0 1\r\nx\r\nget k${i}\r\n` +
        `set k${i} ${i} 0 ${`${i}`.length}\r\n${i}\r\nmn\r\n`;
      const replies = await Promise.all(clients.map((c, i) => c.call(request(i), "MN\r\n")));
      replies.forEach((reply, i) =>
        assert.equal(
          reply,
          `VALUE k${i} ${i} ${`${i}`.length}\r\n${i}\r\nEND\r\nSTORED\r\n` +
            `VALUE k${i} ${i} 1\r\nx\r\nEND\r\nSTORED\r\nMN\r\n`,
          `connection ${i}`,
        )
      );
    }
  } finally {
    for (const c of clients) c[Symbol.dispose]();
  }
});
