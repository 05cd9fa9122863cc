// Slow and silent peers against ours and memcached, in the same run: the
// server process's own resident memory (VmRSS) and a fresh client's waits
// while they hang on.
//
//   deno run -A bench/slow_peers.ts [--slowloris=1000] [--readers=200]
//     [--gets=10000] [--flood=5] [--probe=2] [--reps=1] [--only=slowloris,silent,readers,flood,large]
//
// Scenarios, each against a fresh server (-m 64 unless said, memcached -t 1):
//   slowloris  --slowloris connections each send a 1,000,000-byte set's line and half its data, then stall
//   silent     one connection pipelines --gets gets of a 512 KiB value and never reads
//   readers    --readers connections each pipeline 50 gets of that value and never read
//   flood      one connection floods noreply sets for --flood seconds (a separate process)
//   large      20 connections each pipeline 3 gets of a 30 MB value and never read (-I 32m -m 1024)
// Memory is read before, while the peers hang on, and 1 s after they close.
// The probe (`set` then `get` of a small item, one at a time) runs for --probe seconds.

import { parseArgs } from "node:util";
import { type ServerProcess, startOurServer, startReference } from "../tests/_servers.ts";
import {
  flood,
  halfSentSets,
  type Latency,
  type Peers,
  probe,
  silentReaders,
  sleep,
  vmRss,
} from "../tests/_slow_peers.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    slowloris: { type: "string", default: "1000" },
    readers: { type: "string", default: "200" },
    gets: { type: "string", default: "10000" },
    flood: { type: "string", default: "5" },
    probe: { type: "string", default: "2" },
    reps: { type: "string", default: "1" },
    only: { type: "string", default: "slowloris,silent,readers,flood,large" },
  },
});
const SLOWLORIS = Number(args.values.slowloris);
const READERS = Number(args.values.readers);
const GETS = Number(args.values.gets);
const FLOOD_SECONDS = Number(args.values.flood);
const PROBE_MS = Number(args.values.probe) * 1000;
const REPS = Number(args.values.reps);
const VALUE = 512 * 1024;

interface Row {
  scenario: string;
  server: string;
  rssBefore: number;
  rssDuring: number;
  rssAfter: number;
  latency: Latency;
}

type Scenario = (port: number) => Promise<Peers | Deno.ChildProcess>;

const SCENARIOS: Record<string, Scenario> = {
  slowloris: (port) => halfSentSets(port, SLOWLORIS, 1_000_000),
  silent: (port) => silentReaders(port, 1, GETS, VALUE),
  readers: (port) => silentReaders(port, READERS, 50, VALUE),
  flood: (port) => Promise.resolve(flood(port, FLOOD_SECONDS)),
  large: (port) => silentReaders(port, 20, 3, 30 * 1024 * 1024),
};

/** The servers' flags by scenario: -m 64, or room for a 30 MB value. */
const SERVER_ARGS: Record<string, string[]> = { large: ["-I", "32m", "-m", "1024"] };

async function measure(
  scenario: string,
  name: string,
  start: () => Promise<ServerProcess>,
): Promise<Row> {
  await using server = await start();
  const pid = server.process.pid;
  const rssBefore = await vmRss(pid);
  const peers = await SCENARIOS[scenario](server.port);
  // Let the server take what the peers sent before it is measured.
  await sleep(500);
  const latency = await probe(server.port, PROBE_MS);
  const rssDuring = await vmRss(pid);
  if (peers instanceof Deno.ChildProcess) {
    const status = await peers.status;
    if (!status.success) throw new Error(`Cannot flood: the flooder exited with ${status.code}`);
  } else {
    await peers[Symbol.asyncDispose]();
  }
  await sleep(1000);
  const rssAfter = await vmRss(pid);
  return { scenario, server: name, rssBefore, rssDuring, rssAfter, latency };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0).padStart(6);
const ms = (value: number) => value.toFixed(2).padStart(8);

console.log(
  "scenario   server     RSS MB: before  during   after | fresh client: replies   p99 ms   max ms",
);
for (let rep = 0; rep < REPS; rep++) {
  for (const scenario of args.values.only.split(",")) {
    if (!(scenario in SCENARIOS)) {
      throw new RangeError(`Cannot run scenario "${scenario}": no such scenario`);
    }
    // Alternate which goes first, so neither always meets the box warmer.
    const order: [string, () => Promise<ServerProcess>][] = [
      ["ours", () => startOurServer(SERVER_ARGS[scenario] ?? ["-m", "64"])],
      ["memcached", () => startReference(SERVER_ARGS[scenario] ?? ["-m", "64"])],
    ];
    if (rep % 2 === 1) order.reverse();
    for (const [name, start] of order) {
      const row = await measure(scenario, name, start);
      console.log(
        `${row.scenario.padEnd(10)} ${row.server.padEnd(10)}        ${mb(row.rssBefore)}  ${
          mb(row.rssDuring)
        }  ${mb(row.rssAfter)} |        ${String(row.latency.replies).padStart(8)} ${
          ms(row.latency.p99Ms)
        } ${ms(row.latency.maxMs)}`,
      );
    }
  }
}
