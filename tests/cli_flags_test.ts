/**
 * The flags a user starts the server with, checked through the wire on a
 * running process, ours beside Debian's memcached started the same way.
 */

import assert from "node:assert/strict";
import { REFUSAL } from "./_flood.ts";
import { hasMemcached, hasPeer, startMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer, startReference } from "./_servers.ts";
import { Wire } from "./_wire.ts";

const HAS_MEMCACHED = hasMemcached();

/** Ours and memcached, each on a free port with -l 127.0.0.1 and the flags given. */
const STARTS = [startOurServer, startReference];

/** Runs `check` on ours and on memcached, and requires both to give the same result. */
function sameOnBoth<T>(
  name: string,
  check: (start: (args: string[]) => Promise<ServerProcess>) => Promise<T>,
) {
  Deno.test({
    name,
    ignore: !HAS_MEMCACHED,
    async fn() {
      const [ours, theirs] = await Promise.all(STARTS.map((start) => check(start)));
      assert.deepEqual(ours, theirs);
    },
  });
}

sameOnBoth(
  "-M: a full cache refuses a set with memcached's error and evicts nothing",
  async (start) => {
    await using server = await start(["-m", "2", "-M"]);
    using wire = await Wire.connect(server.port);
    const value = "x".repeat(100_000);
    let stored = 0;
    let reply = "";
    // 2 MB holds about twenty 100 KB values; 200 is far past full.
    for (; stored < 200; stored++) {
      reply = await wire.call(`set k${stored} 0 0 ${value.length}\r\n${value}\r\n`);
      if (reply !== "STORED\r\n") break;
    }
    const first = await wire.call("get k0\r\n", "END\r\n");
    const stats = await wire.call("stats\r\n", "END\r\n");
    return {
      full: stored > 0 && stored < 200,
      reply,
      firstKept: first === `VALUE k0 0 ${value.length}\r\n${value}\r\nEND\r\n`,
      evictions: /STAT evictions (\d+)\r\n/.exec(stats)?.[1],
    };
  },
);

sameOnBoth("-A: shutdown stops the server; without -A it is refused", async (start) => {
  const refused = await (async () => {
    await using server = await start([]);
    using wire = await Wire.connect(server.port);
    return await wire.call("shutdown\r\n");
  })();
  await using server = await start(["-A"]);
  using wire = await Wire.connect(server.port);
  await wire.send("shutdown\r\n");
  const reply = await wire.readToClose(10_000);
  const status = await server.process.status;
  return { refused, reply, exit: status.code };
});

sameOnBoth(
  "-l a,b listens on every address of the list, and repeated -l adds to it",
  async (start) => {
    // startOurServer and startReference give -l 127.0.0.1 first; these join it.
    await using server = await start(["-l", "127.0.0.2,127.0.0.3"]);
    const replies: string[] = [];
    for (const hostname of ["127.0.0.1", "127.0.0.2", "127.0.0.3"]) {
      const conn = await Deno.connect({ hostname, port: server.port });
      await conn.write(new TextEncoder().encode("version\r\n"));
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      conn.close();
      replies.push(`${hostname}: ${new TextDecoder().decode(buf.subarray(0, n ?? 0))}`);
    }
    return replies;
  },
);

/**
 * A connection the server serves, once it has seen earlier ones close: until
 * then a newcomer is refused with memcached's line.
 */
async function served(port: number): Promise<Wire> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const wire = await Wire.connect(port);
    const reply = await wire.call("version\r\n");
    if (reply === "VERSION 1.6.18\r\n") return wire;
    assert.equal(reply, REFUSAL);
    wire[Symbol.dispose]();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("Cannot connect: a freed place was never taken");
}

Deno.test("-c 2: the third connection is refused with memcached's line, and a freed place is taken again", async () => {
  await using server = await startOurServer(["-c", "2"]);
  const first = await served(server.port);
  using _second = await served(server.port);
  {
    using third = await Wire.connect(server.port);
    assert.equal(await third.readToClose(), REFUSAL);
  }
  first[Symbol.dispose]();
  using _fourth = await served(server.port);
});

/** A session of well-formed classic and meta commands, noreply among them. */
const SESSION = "set k 0 0 1\r\n1\r\nset n 0 0 1 noreply\r\n2\r\nget k n x\r\ngets k\r\n" +
  "incr k 5\r\nincr k 1 noreply\r\ndecr nope 1\r\ntouch k 10\r\nadd k 0 0 1\r\n3\r\n" +
  "version\r\nmn\r\nms m 1 T0\r\nz\r\nmg m v\r\nmg zz v\r\nmd m q\r\nstats detail dump\r\n" +
  "flush_all\r\nverbosity 2\r\ndelete k noreply\r\nappend k 0 0 1\r\nx\r\nquit\r\n";

/**
 * The session's part of a -vv log as both must agree on it: from its
 * connection's first line to its last, ids as N, lines of other connections
 * (the start-up probe's) left out.
 */
function sessionLog(log: string): string[] {
  const lines = log.split("\n");
  const at = lines.findIndex((line) => /^<\d+ set k 0 0 1$/.test(line));
  assert.ok(at >= 0, `no session in the log:\n${log}`);
  const id = lines[at].slice(1, lines[at].indexOf(" "));
  const mine = (line: string) => line.startsWith(`<${id} `) || line.startsWith(`>${id} `);
  const first = lines.findLastIndex((line, i) => i < at && line.startsWith(`<${id} new `));
  const last = lines.findIndex((line, i) => i > at && line === `<${id} connection closed.`);
  return lines.slice(first, last + 1).filter(mine).map((line) =>
    line.replace(/^([<>])\d+ /, "$1N ")
      // memcached negotiates text or binary on a connection's first byte; ours speaks text only.
      .replace("new auto-negotiating client connection", "new client connection")
  );
}

Deno.test({
  name: "-vv logs each command and its reply as memcached's -vv does",
  ignore: !HAS_MEMCACHED,
  async fn() {
    const logs: string[][] = [];
    for (
      const start of [
        () => startOurServer(["-vv"], { stderr: "piped" }),
        () => startMemcached(["-t", "1", "-vv"], { stderr: "piped" }),
      ]
    ) {
      const server = await start();
      const log = new Response(server.process.stderr).text();
      {
        using wire = await Wire.connect(server.port);
        await wire.send(SESSION);
        await wire.readToClose(5000);
      }
      // Both log the close in the same step as they close, so it is in the log by now.
      await server[Symbol.asyncDispose]();
      logs.push(sessionLog(await log));
    }
    const [ours, theirs] = logs;
    assert.ok(theirs.includes("<N set n 0 0 1 noreply") && theirs.includes(">N NOREPLY STORED"));
    assert.deepEqual(ours, theirs);
  },
});

Deno.test({
  name:
    "-vv prints memcached's size classes (-f, -n, slab_sizes, slab_chunk_max) and listeners at start, -v says it exits normally",
  ignore: !HAS_MEMCACHED,
  async fn() {
    // What a start and a SIGTERM print, without the lines of the connection that saw it listen.
    const framing = async (server: ServerProcess) => {
      const log = new Response(server.process.stderr).text();
      await server[Symbol.asyncDispose]();
      return (await log).split("\n").filter((line) => !/^[<>]\d+ (?!server listening)/.test(line));
    };
    for (
      const flags of [
        ["-vv", "-f", "1.5", "-n", "100"],
        ["-vv", "-o", "slab_chunk_max=131072,slab_sizes=96-512-4096"],
        ["-vv", "-o", "slab_chunk_max=262144"],
        ["-v"],
      ]
    ) {
      const ours = await framing(await startOurServer(["-t", "1", ...flags], { stderr: "piped" }));
      const theirs = await framing(
        await startMemcached(["-t", "1", "-B", "ascii", ...flags], { stderr: "piped" }),
      );
      assert.deepEqual(ours, theirs, flags.join(" "));
      assert.ok(theirs.includes("Exiting normally"), flags.join(" "));
    }
  },
});

Deno.test({
  name: "-b sets the listen backlog the kernel shows, as memcached's",
  ignore: !HAS_MEMCACHED || !hasPeer("iproute2", "ss", ["-V"]),
  async fn() {
    // ss shows a listening socket's backlog as its Send-Q.
    const backlog = async (port: number) => {
      const out = await new Deno.Command("ss", { args: ["-Hltn", `sport = :${port}`] }).output();
      return new TextDecoder().decode(out.stdout).trim().split(/\s+/)[2];
    };
    for (const start of STARTS) {
      await using server = await start(["-b", "37"]);
      assert.equal(await backlog(server.port), "37");
    }
  },
});
