/**
 * Connection floods past `-c` and servers out of file descriptors, as
 * processes: ours beside Debian's memcached, whose refusal ours sends byte
 * for byte.
 */

import { ourServerArgs } from "./_layer.ts";
import assert from "node:assert/strict";
import {
  closeAll,
  cpuTicks,
  flood,
  openFds,
  REFUSAL,
  serverStats,
  settlesTo,
  steady,
} from "./_flood.ts";
import { hasMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer, startReference } from "./_servers.ts";

const HAS_MEMCACHED = hasMemcached();
const ROUNDS = 5;
const CONNECTS = 1000;

interface Target {
  name: string;
  start: () => Promise<ServerProcess>;
  /** How many connections `-c 100` serves: ours all 100; memcached's own descriptors count against its limit. */
  served: (n: number) => boolean;
}

const TARGETS: Target[] = [
  { name: "ours", start: () => startOurServer(["-c", "100"]), served: (n) => n === 100 },
  {
    name: "Debian's memcached",
    start: () => startReference(["-c", "100"]),
    served: (n) => n > 50 && n < 100,
  },
];

for (const target of TARGETS) {
  Deno.test({
    name:
      `-c 100 refuses the rest of 1,000 connects as memcached does, and gives every descriptor back, five times over (${target.name})`,
    ignore: target.name !== "ours" && !HAS_MEMCACHED,
    async fn() {
      await using server = await target.start();
      const pid = server.process.pid;
      let rejected = 0;
      // A stats connection made before the closes are seen is refused, and counted, as well.
      const current = async () => {
        const stats = await serverStats(server.port);
        if (stats === undefined) rejected++;
        return stats?.get("curr_connections");
      };
      // The start-up probe's connection may still be closing.
      const fds = await steady(() => openFds(pid));
      const connections = await steady(current);
      const rounds: string[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const began = performance.now();
        const { served, refusals } = await flood(server.port, CONNECTS);
        const took = performance.now() - began;
        assert.ok(target.served(served.length), `round ${round}: ${served.length} served`);
        assert.equal(served.length + refusals.length, CONNECTS);
        assert.deepEqual(new Set(refusals), new Set([REFUSAL]), `round ${round}`);
        rejected += refusals.length;
        closeAll(served);
        assert.equal(
          await settlesTo(current, connections),
          connections,
          `round ${round}: curr_connections`,
        );
        assert.equal(
          await settlesTo(() => openFds(pid), fds),
          fds,
          `round ${round}: open descriptors`,
        );
        const stats = await serverStats(server.port);
        assert.equal(Number(stats?.get("rejected_connections")), rejected, `round ${round}`);
        rounds.push(`${served.length} served, ${refusals.length} refused, ${took.toFixed(0)} ms`);
      }
      console.log(`${target.name}: ${fds} fds before and after each round; ${rounds.join("; ")}`);
    },
  });
}

/** Whether this process may raise its hard file limit (CAP_SYS_RESOURCE), as memcached tries to. */
function mayRaiseFileLimit(): boolean {
  const caps = /^CapEff:\s*([0-9a-f]+)/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return caps !== undefined && (BigInt(`0x${caps}`) & (1n << 24n)) !== 0n;
}

async function underFileLimit(limit: number, command: string[]) {
  const out = await new Deno.Command("bash", {
    args: ["-c", `ulimit -n ${limit} && exec "$@"`, "bash", ...command],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("-c beyond the open file limit is refused at start with memcached's message and exit code", async () => {
  const ours = await underFileLimit(200, [
    Deno.execPath(),
    ...ourServerArgs(),
    "-c",
    "1024",
    "-p",
    "0",
  ]);
  const message =
    "failed to set rlimit for open files. Try starting as root or requesting smaller maxconns value.\n";
  assert.deepEqual(ours, { code: 71, stderr: message });
  // memcached raises its hard limit where it may; there it starts, so there is nothing to compare.
  if (!HAS_MEMCACHED || mayRaiseFileLimit()) return;
  const user = Deno.uid() === 0 ? ["-u", "root"] : [];
  const theirs = await underFileLimit(200, [
    "memcached",
    ...user,
    "-c",
    "1024",
    "-p",
    "0",
    "-U",
    "0",
  ]);
  assert.deepEqual(theirs, ours);
});

/** A connection whose reply is read once, whenever it comes. */
async function asking(port: number): Promise<{ conn: Deno.Conn; reply: Promise<string> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("version\r\n"));
  const buf = new Uint8Array(64);
  const reply = conn.read(buf).then(
    (n) => new TextDecoder().decode(buf.subarray(0, n ?? 0)),
    (error) => {
      // Closed by the test while still waiting: the test has failed already, and says why.
      if (error instanceof Deno.errors.Interrupted) return "<closed unanswered>";
      throw error;
    },
  );
  return { conn, reply };
}

const waited = (ms: number) => new Promise<"waiting">((r) => setTimeout(() => r("waiting"), ms));

/** A reply that must come within 10 s. */
async function within(reply: Promise<string>): Promise<string> {
  const got = await Promise.race([reply, waited(10_000)]);
  assert.notEqual(got, "waiting", "no reply within 10 s: accepting never resumed");
  return got;
}

Deno.test("Out of file descriptors, accepting pauses without spinning, logs once and resumes when they free up", async () => {
  await using server = await startOurServer(["-c", "64", "-v"], { fileLimit: 64, stderr: "piped" });
  const pid = server.process.pid;
  // Read as it comes: a full pipe would stop a server that logs in a loop, and hide the loop.
  const log = new Response(server.process.stderr).text();
  const served: Deno.Conn[] = [];
  const waiting: { conn: Deno.Conn; reply: Promise<string> }[] = [];
  let stats: Map<string, string> | undefined;
  try {
    // Connect until one is left in the backlog: the process has no descriptor for it.
    while (waiting.length === 0) {
      assert.ok(served.length < 64, "the server never ran out of descriptors");
      const next = await asking(server.port);
      if (await Promise.race([next.reply, waited(1000)]) === "waiting") waiting.push(next);
      else served.push(next.conn);
    }
    for (let i = 0; i < 9; i++) waiting.push(await asking(server.port));
    const before = cpuTicks(pid);
    await waited(1000);
    const ticks = cpuTicks(pid) - before;
    // A loop retrying accept at once burns the whole second (100 ticks); pausing 10 ms between tries costs a few.
    assert.ok(ticks < 30, `${ticks} ticks of CPU in one second while out of descriptors`);
    console.log(
      `${served.length} served, then ${ticks} CPU ticks (1/100 s) in 1 s out of descriptors`,
    );

    served.pop()!.close();
    served.pop()!.close();
    // Two descriptors free: the oldest waiting connection is accepted and answers.
    assert.equal(await within(waiting[0].reply), "VERSION 1.6.18\r\n");
    for (let freed = 0; freed < 10; freed++) served.pop()!.close();
    for (const { reply } of waiting) assert.equal(await within(reply), "VERSION 1.6.18\r\n");
    stats = await serverStats(server.port);
    assert.equal(stats?.get("accepting_conns"), "1");
    assert.ok(Number(stats.get("listen_disabled_num")) >= 1, stats.get("listen_disabled_num"));
    assert.ok(Number(stats.get("time_in_listen_disabled_us")) > 0);
  } finally {
    closeAll([...served, ...waiting.map((w) => w.conn)]);
  }
  server.process.kill("SIGTERM");
  const text = await log;
  const lines = text.split("\n").filter((l) => l === "Too many open connections");
  // One line each time accepting stopped, where a spinning loop logs one for every failed accept.
  assert.equal(lines.length, Number(stats?.get("listen_disabled_num")), text.slice(0, 2000));
});
