// How many stale values a server serves when it comes back after being left
// out of routing, with and without the client's flushOnRejoin. Two servers,
// a client reading and writing 1,000 keys from 4 callers; one server is
// frozen (SIGSTOP) for 5 s and resumed (SIGCONT). While it is marked dead its
// keys are written on the other server; when it rejoins, it still holds the
// older values. A read is stale when it returns a version older than the last
// write acknowledged before the read began.
//
//   deno run -A bench/stale_rejoin.ts                      # ours and memcached, 14 s each run
//   deno run -A bench/stale_rejoin.ts --server=ours --seconds=14 --dead-retry=2
import { parseArgs } from "node:util";
import { Client } from "../client/mod.ts";

const { values: args } = parseArgs({
  options: {
    server: { type: "string", default: "both" },
    seconds: { type: "string", default: "14" },
    "dead-retry": { type: "string", default: "2" },
  },
});
const SECONDS = Number(args.seconds);
const DEAD_RETRY = Number(args["dead-retry"]);
const FREEZE_AT_MS = 2000;
const FREEZE_MS = 5000;
const KEYS = 1000;
const CALLERS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function start(
  kind: "ours" | "memcached",
): Promise<{ port: number; process: Deno.ChildProcess }> {
  const port = freePort();
  const [command, argv] = kind === "ours"
    ? [Deno.execPath(), ["run", "-A", new URL("../server/mod.ts", import.meta.url).pathname]]
    : ["memcached", [...(Deno.uid() === 0 ? ["-u", "root"] : []), "-t", "1", "-U", "0"]];
  const process = new Deno.Command(command, {
    args: [...argv, "-l", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 500; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { port, process };
    } catch {
      await sleep(20);
    }
  }
  process.kill("SIGKILL");
  throw new Error(`Cannot start ${kind}: it never accepted a connection`);
}

interface Outcome {
  reads: number;
  stale: number;
  misses: number;
  failed: number;
  /** When the first and last stale read began, in ms after SIGCONT. */
  first: number;
  last: number;
}

async function run(kind: "ours" | "memcached", flushOnRejoin: boolean): Promise<Outcome> {
  const servers = [await start(kind), await start(kind)];
  const frozen = servers[1].process;
  const client = new Client(servers.map((s) => `127.0.0.1:${s.port}`), {
    socketTimeout: 1,
    connectTimeout: 1,
    deadRetry: DEAD_RETRY,
    flushOnRejoin,
  });
  const acked = new Int32Array(KEYS);
  let version = 0;
  const out: Outcome = { reads: 0, stale: 0, misses: 0, failed: 0, first: NaN, last: NaN };
  const started = performance.now();
  const resumedAt = started + FREEZE_AT_MS + FREEZE_MS;
  const end = started + SECONDS * 1000;
  // Every key holds version 0 on its own server before the freeze.
  await client.setMulti(Array.from({ length: KEYS }, (_, k) => [`s${k}`, `s${k}:0`] as const));
  const caller = async (seed: number) => {
    let x = seed;
    while (performance.now() < end) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const k = x % KEYS;
      const key = `s${k}`;
      try {
        if ((x >> 16) % 2 === 0) {
          const v = ++version;
          if (await client.set(key, `${key}:${v}`)) acked[k] = Math.max(acked[k], v);
        } else {
          const expected = acked[k];
          const begun = performance.now();
          const value = await client.get<string>(key);
          out.reads++;
          if (value === undefined) out.misses++;
          else if (Number(value.slice(key.length + 1)) < expected) {
            out.stale++;
            if (Number.isNaN(out.first)) out.first = begun - resumedAt;
            out.last = begun - resumedAt;
          }
        }
      } catch {
        // A call to the frozen server fails by timeout; the count is what this measures.
        out.failed++;
      }
    }
  };
  const load = Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c + 1)));
  await sleep(FREEZE_AT_MS);
  frozen.kill("SIGSTOP");
  await sleep(FREEZE_MS);
  frozen.kill("SIGCONT");
  await load;
  client.close();
  for (const { process } of servers) {
    process.kill("SIGKILL");
    await process.status;
  }
  return out;
}

const kinds = args.server === "both" ? ["ours", "memcached"] as const : [args.server as "ours"];
console.log(
  `${KEYS} keys, ${CALLERS} callers, ${SECONDS} s; server 2 frozen at ${FREEZE_AT_MS / 1000} s ` +
    `for ${FREEZE_MS / 1000} s; socketTimeout 1 s, deadRetry ${DEAD_RETRY} s`,
);
console.log(
  "| server | flushOnRejoin | reads | stale | first/last stale after SIGCONT | misses | failed calls |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const kind of kinds) {
  for (const flush of [false, true]) {
    const o = await run(kind, flush);
    const window = o.stale === 0
      ? "-"
      : `${(o.first / 1000).toFixed(1)} s / ${(o.last / 1000).toFixed(1)} s`;
    console.log(
      `| ${kind} | ${flush} | ${o.reads} | ${o.stale} | ${window} | ${o.misses} | ${o.failed} |`,
    );
  }
}
