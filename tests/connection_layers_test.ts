/**
 * The two connection layers as a user meets them: which one a server runs
 * on and how it says so, a layer that cannot run refused at start, and what
 * the epoll layer rebuilds of Deno.listen (IPv6, several addresses, signals
 * in the middle of its calls, a client that stops reading). The rest of the
 * suite runs once on each layer (`deno task test`).
 */

import assert from "node:assert/strict";
import { serve as serveAnyLayer } from "../server/mod.ts";
import { runOurs } from "./_cli_runs.ts";
import { OUR_ENTRY, serve, TEST_LAYER } from "./_layer.ts";
import { freePort } from "./_peers.ts";
import { startOurServer } from "./_servers.ts";
import { Wire } from "./_wire.ts";

const EPOLL_HERE = TEST_LAYER === "epoll";
const EPOLL_POSSIBLE = Deno.build.os === "linux" && Deno.build.arch === "x86_64";

async function layerOf(port: number): Promise<string | undefined> {
  using wire = await Wire.connect(port);
  const settings = await wire.call("stats settings\r\n", "END\r\n");
  return / connection_layer (\S+)\r\n/.exec(settings)?.[1];
}

Deno.test("stats settings names the layer: epoll where FFI is granted on Linux x86_64, else deno", async () => {
  {
    await using server = await startOurServer([]);
    assert.equal(await layerOf(server.port), TEST_LAYER);
  }
  {
    await using server = await startOurServer(["-o", "connection_layer=epoll"]);
    assert.equal(await layerOf(server.port), "epoll");
  }
  {
    await using server = await startOurServer(["-o", "connection_layer=deno"]);
    assert.equal(await layerOf(server.port), "deno");
  }
  await using inProcess = serveAnyLayer({ port: 0 });
  assert.equal(await layerOf(inProcess.addr.port), EPOLL_POSSIBLE ? "epoll" : "deno");
});

Deno.test("a server without --allow-ffi runs on Deno.listen, and refuses -o connection_layer=epoll with the reason", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", OUR_ENTRY, "-p", String(port)],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    let layer: string | undefined;
    for (let i = 0; i < 250 && layer === undefined; i++) {
      layer = await layerOf(port).catch(() => undefined);
      if (layer === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(layer, "deno");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel();
  }
  const refused = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", OUR_ENTRY, "-p", "0", "-o", "connection_layer=epoll"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(refused.code, 64);
  assert.match(
    new TextDecoder().decode(refused.stderr),
    /^The epoll connection layer needs Linux on x86_64 and --allow-ffi: this is linux on x86_64, with ffi prompt\n$/,
  );
  const bad = await runOurs(["-o", "connection_layer=uring"]);
  assert.equal(bad.code, 64);
  assert.equal(bad.stderr, "connection_layer must be epoll or deno\n");
});

Deno.test("-t above 1 is told at start: one thread answers, and stats show the number given", async () => {
  await using server = await startOurServer(["-t", "8"], { stderr: "piped" });
  using wire = await Wire.connect(server.port);
  assert.match(await wire.call("stats\r\n", "END\r\n"), /\r\nSTAT threads 8\r\n/);
  server.process.kill("SIGTERM");
  await server.process.status;
  const stderr = await new Response(server.process.stderr).text();
  assert.equal(stderr, "-t 8: this server answers on one thread; stats show 8\n");
});

Deno.test("several -l addresses, IPv6 among them, each serve and are named as Deno names them", async () => {
  const [a, b] = [freePort(), freePort()];
  await using server = serve({ port: 0, hostname: `127.0.0.1:${a},[::1]:${b}` });
  assert.deepEqual(server.addrs.map((addr) => `${addr.hostname}:${addr.port}`), [
    `127.0.0.1:${a}`,
    `::1:${b}`,
  ]);
  const six = await Deno.connect({ hostname: "::1", port: b });
  try {
    const call = async (text: string, end: string) => {
      await six.write(new TextEncoder().encode(text));
      let reply = "";
      const buffer = new Uint8Array(4096);
      while (!reply.endsWith(end)) {
        const n = await six.read(buffer);
        if (n === null) break;
        reply += new TextDecoder().decode(buffer.subarray(0, n));
      }
      return reply;
    };
    assert.equal(await call("set k 0 0 1\r\nv\r\n", "\r\n"), "STORED\r\n");
    const conns = await call("stats conns\r\n", "END\r\n");
    assert.match(
      conns,
      new RegExp(`STAT \\d+:addr tcp:::1:\\d+\r\nSTAT \\d+:listen_addr tcp:::1:${b}\r\n`),
    );
  } finally {
    six.close();
  }
  using four = await Wire.connect(a);
  assert.equal(await four.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nv\r\nEND\r\n");
});

Deno.test("signals arriving in the middle of socket calls cost no request", async () => {
  await using server = await startOurServer([]);
  using wire = await Wire.connect(server.port);
  const value = "x".repeat(1000);
  let signals = 0;
  const pelt = setInterval(() => {
    server.process.kill("SIGHUP");
    signals++;
  }, 2);
  try {
    for (let i = 0; i < 400; i++) {
      const batch = Array.from({ length: 10 }, (_, j) => `set k${i}:${j} 0 0 1000\r\n${value}\r\n`);
      assert.equal(
        await wire.call(batch.join(""), "STORED\r\n".repeat(10)),
        "STORED\r\n".repeat(10),
      );
      assert.equal(
        await wire.call(`get k${i}:9\r\n`, "END\r\n"),
        `VALUE k${i}:9 0 1000\r\n${value}\r\nEND\r\n`,
      );
    }
  } finally {
    clearInterval(pelt);
  }
  assert.ok(signals > 10, `${signals} signals sent`);
});

Deno.test({
  name:
    "the epoll layer holds a client that stops reading to its socket buffers and serves the others",
  ignore: !EPOLL_HERE,
  async fn() {
    await using server = serve({ port: 0 });
    const stuck = await Deno.connect({ port: server.addr.port });
    using other = await Wire.connect(server.addr.port);
    const value = "v".repeat(100_000);
    assert.equal(await other.call(`set big 0 0 ${value.length}\r\n${value}\r\n`), "STORED\r\n");
    // 40 MB of replies asked for and none read: the server must wait on EPOLLOUT, not buffer them.
    await stuck.write(new TextEncoder().encode("get big\r\n".repeat(400)));
    for (let i = 0; i < 20; i++) {
      assert.equal(await other.call("version\r\n"), "VERSION 1.6.18\r\n");
    }
    // Once the client reads, every byte arrives, in order.
    const want = (`VALUE big 0 ${value.length}\r\n${value}\r\nEND\r\n`).length * 400;
    const buffer = new Uint8Array(1 << 20);
    let got = 0;
    while (got < want) {
      const n = await stuck.read(buffer);
      if (n === null) break;
      got += n;
    }
    assert.equal(got, want);
    stuck.close();
  },
});
