// The comparison harness behind `deno task bench`: our server against
// Debian's `memcached -t 1`, our client against npm memjs, npm memcached,
// pymemcache and python-memcached, and memory per item, alternating peer and
// ours within each repetition. Prints medians over the repetitions with the
// ratio ours/peer and each target's verdict, and writes a Markdown table, the
// raw JSON and an SVG chart to bench/results/, again after every measurement,
// so that a run that stops keeps what it measured. Peers this machine lacks
// are skipped with a line saying what to install (bench/_peers.ts).
//
//   deno task bench [--quick] [--reps=3] [--only=server,client,memory]
//   (= deno run -A bench/run.ts ...; the micro benchmarks are `deno task bench:micro`)
//
// A full run takes about 6 minutes; --quick (1 s loads, 200k items for memory, still 3
// repetitions) about 2. Every load is bounded in time and count, every child process by a
// kill timer.
//
// Placement on the 2 cores: every server is pinned to CPU 0 (`taskset -c 0`)
// and every load generator or client to CPU 1, so neither steals the other's
// core; background work on the box still adds noise. Without taskset, nothing
// is pinned.
import { parseArgs } from "node:util";
import type { Row } from "./_chart.ts";
import { missingPeers, type PeerName, type Phase, PHASES } from "./_peers.ts";
import { row, writeResults } from "./_report.ts";
import { NPM_PEERS } from "./clients/_npm.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    only: { type: "string", default: PHASES.join(",") },
  },
});
const QUICK = args.values.quick;
const REPS = Math.max(3, Number(args.values.reps ?? 3));
if (!Number.isInteger(REPS)) {
  throw new RangeError(`Cannot run ${REPS} repetitions: --reps takes a whole number`);
}
const SERVER_SECONDS = QUICK ? 1 : 4;
const CLIENT_SECONDS = QUICK ? 1 : 3;
const MEMORY_ITEMS = QUICK ? 200_000 : 1_000_000;
const ONLY = new Set(args.values.only!.split(",") as Phase[]);
for (const phase of ONLY) {
  if (!PHASES.includes(phase)) {
    throw new RangeError(`Cannot run phase "${phase}": --only takes ${PHASES.join(", ")}`);
  }
}

const HERE = new URL(".", import.meta.url).pathname;
const RESULTS = `${HERE}results/`;
const SERVER_ENTRY = new URL("../server/mod.ts", import.meta.url).pathname;
const FLOOR_ENTRY = new URL("./floor_server.ts", import.meta.url).pathname;
Deno.mkdirSync(RESULTS, { recursive: true });

const MISSING = await missingPeers(ONLY);
for (const line of MISSING.values()) console.error(line);
const has = (peer: PeerName) => !MISSING.has(peer);

/** `command` pinned to `cpu` with taskset, or as it is where taskset is missing. */
function pin(cpu: 0 | 1, command: string[]): string[] {
  return has("taskset") ? ["taskset", "-c", String(cpu), ...command] : command;
}

/**
 * "floor" is bench/floor_server.ts: Deno.listen with no store, the least a server can do.
 * "ours" runs on its default connection layer (epoll, with -A on Linux x86_64), "ours-deno" on
 * Deno.listen (`-o connection_layer=deno`), the layer a server without --allow-ffi gets.
 */
type Target = "memcached" | "ours" | "ours-deno" | "floor";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function cpuOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Running extends AsyncDisposable {
  port: number;
  pid: number;
}

/** Starts a server pinned to CPU 0 with 1 GiB of item memory and waits until it accepts. */
async function startServer(target: Target): Promise<Running> {
  const port = freePort();
  const command = target === "memcached"
    ? [
      "memcached",
      ...(Deno.uid() === 0 ? ["-u", "root"] : []),
      ...["-t", "1", "-U", "0", "-l", "127.0.0.1", "-p", String(port), "-m", "1024"],
    ]
    : target === "floor"
    ? [Deno.execPath(), "run", "-A", FLOOR_ENTRY, `--port=${port}`]
    : [
      ...[Deno.execPath(), "run", "-A", SERVER_ENTRY, "-p", String(port), "-m", "1024"],
      ...(target === "ours-deno" ? ["-o", "connection_layer=deno"] : []),
    ];
  const [program, ...rest] = pin(0, command);
  const child = new Deno.Command(program, { args: rest, stdout: "null", stderr: "inherit" })
    .spawn();
  const stopChild = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
  };
  // A server that exits at once (a bad flag, a port taken) says so now, not after 10 s.
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => exited = status);
  for (let i = 0; i < 250 && exited === undefined; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return { port, pid: child.pid, [Symbol.asyncDispose]: stopChild };
    } catch {
      await sleep(40);
    }
  }
  await stopChild();
  const why = exited === undefined ? "not accepting after 10 s" : `exit ${exited.code}`;
  throw new Error(`Cannot start ${target} on port ${port}: ${why}`);
}

/**
 * Runs a command pinned to CPU 1, bounded by `timeoutSeconds`; returns its
 * stdout, handing each chunk to `onOutput` as it arrives.
 */
async function pinned(
  command: string[],
  timeoutSeconds: number,
  onOutput?: (text: string) => void,
): Promise<string> {
  const [program, ...rest] = pin(1, command);
  const child = new Deno.Command(program, { args: rest, stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutSeconds * 1000);
  const decoder = new TextDecoder();
  let stdout = "";
  const stderr = new Response(child.stderr).text();
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    stdout += text;
    onOutput?.(text);
  }
  const status = await child.status;
  clearTimeout(timer);
  if (!status.success) {
    throw new Error(
      `Cannot run ${command.slice(0, 4).join(" ")}: exit ${status.code}\n` +
        (await stderr).slice(-2000),
    );
  }
  return stdout;
}

/** The server's CPU seconds at time `t`, interpolated between the samples around it. */
function cpuAt(samples: [number, number][], t: number): number {
  let before = samples[0];
  for (const sample of samples) {
    if (sample[0] > t) {
      const span = sample[0] - before[0];
      return span <= 0 ? before[1] : before[1] + (sample[1] - before[1]) * (t - before[0]) / span;
    }
    before = sample;
  }
  return before[1];
}

const LOAD = [Deno.execPath(), "run", "-A", `${HERE}_load.ts`];

async function preload(port: number, keys: number, value = 100): Promise<void> {
  await pinned([...LOAD, `--port=${port}`, "--preload", `--keys=${keys}`, `--value=${value}`], 120);
}

async function statsOf(port: number): Promise<Record<string, string>> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("stats\r\n"));
  let text = "";
  const buf = new Uint8Array(64 * 1024);
  for (let i = 0; i < 100 && !text.endsWith("END\r\n"); i++) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return Object.fromEntries([...text.matchAll(/STAT (\S+) (\S+)/g)].map((m) => [m[1], m[2]]));
}

function median(values: number[]): number | null {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------- server

/** What one server run measured. */
interface ServerSample {
  ops: number;
  keys: number;
  p50Us: number;
  p99Us: number;
  cpu: number;
  rssMiB: number;
}

interface Scenario {
  id: string;
  label: string;
  generator: "memcaslap" | "_load.ts";
  memcaslap?: { value: number; getRatio: number; division: number };
  load?: string[];
}

const SCENARIOS: Scenario[] = [
  {
    id: "a",
    label: "(a) 50 conns, 90% get/10% set, 100 B, 1 in flight",
    generator: "memcaslap",
    memcaslap: { value: 100, getRatio: 0.9, division: 1 },
  },
  {
    id: "b",
    label: "(b) as (a), 32 pipelined per conn",
    generator: "_load.ts",
    load: ["--conns=50", "--depth=32", "--gets=0.9", "--value=100"],
  },
  {
    id: "c",
    label: "(c) 50 conns, multi-get of 100 keys",
    generator: "memcaslap",
    memcaslap: { value: 100, getRatio: 1, division: 100 },
  },
  {
    id: "d",
    label: "(d) 50 conns, set-only, 1 KiB",
    generator: "memcaslap",
    memcaslap: { value: 1024, getRatio: 0, division: 1 },
  },
];

/** Percentile from memcaslap's log2 histogram: bucket k holds (2^(k-1), 2^k] µs; interpolated geometrically. */
function log2Percentile(buckets: Map<number, number>, p: number): number {
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  const rank = total * p;
  let seen = 0;
  for (const k of [...buckets.keys()].sort((a, b) => a - b)) {
    const count = buckets.get(k)!;
    if (count > 0 && seen + count >= rank) {
      return 2 ** (k - 1) * 2 ** ((rank - seen) / count);
    }
    seen += count;
  }
  return NaN;
}

async function runMemcaslap(s: Scenario, port: number, pid: number): Promise<ServerSample> {
  const m = s.memcaslap!;
  const config = `${RESULTS}memcaslap_${s.id}.cfg`;
  Deno.writeTextFileSync(
    config,
    `key\n16 16 1\nvalue\n${m.value} ${m.value} 1\ncmd\n0 ${(1 - m.getRatio).toFixed(2)}\n` +
      `1 ${m.getRatio.toFixed(2)}\n`,
  );
  // Server CPU is sampled every 50 ms, so that only memcaslap's timed window (its last
  // "Run time" seconds, after its start-up and warm-up sets) is counted.
  const cpuSamples: [number, number][] = [[performance.now(), cpuOf(pid)]];
  const sampler = setInterval(() => cpuSamples.push([performance.now(), cpuOf(pid)]), 50);
  // 50 connections x a window of 2k keys each = 100k keys; -S prints the latency histogram.
  let runEnded = Number.NaN;
  const out = await pinned(
    [
      // Line-buffered, so each block arrives when printed, not when memcaslap exits.
      ...["stdbuf", "-oL", "memcaslap"],
      ...[`-s`, `127.0.0.1:${port}`, "-T", "1", "-c", "50", "-w", "2k"],
      ...["-t", `${SERVER_SECONDS}s`, "-S", `${SERVER_SECONDS}s`, "-F", config],
      ...(m.division > 1 ? ["-d", String(m.division)] : []),
    ],
    SERVER_SECONDS + 60,
    (text) => {
      // With -S as long as -t, memcaslap's first statistics block marks the end of its timed
      // window; its summary follows about a second later, after it tears down.
      if (Number.isNaN(runEnded) && text.includes("Total Statistics")) runEnded = performance.now();
    },
  ).finally(() => clearInterval(sampler));
  const end = Number.isNaN(runEnded) ? performance.now() : runEnded;
  const cpuEnd = cpuAt(cpuSamples, end);
  const number = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const seconds = number(/Run time: ([\d.]+)s/);
  const from = end - seconds * 1000;
  const cpuFrom = cpuAt(cpuSamples, from);
  const gets = number(/cmd_get: (\d+)/);
  const sets = number(/cmd_set: (\d+)/);
  const misses = number(/get_misses: (\d+)/);
  const total = out.slice(out.lastIndexOf("Total Statistics ("));
  const buckets = new Map<number, number>();
  const dist = total.slice(total.indexOf("Log2 Dist:"));
  for (const line of dist.split("\n").slice(1)) {
    const match = /^\s+(\d+):\s+([\d\s]+)$/.exec(line);
    if (!match) break;
    match[2].trim().split(/\s+/).forEach((c, i) => buckets.set(Number(match[1]) + i, Number(c)));
  }
  return {
    // memcaslap's warm-up sets count in cmd_set; a get-only scenario counts requests only.
    ops: (gets / m.division + (m.getRatio === 1 ? 0 : sets)) / seconds,
    keys: (gets - misses) / seconds,
    p50Us: log2Percentile(buckets, 0.5),
    p99Us: log2Percentile(buckets, 0.99),
    cpu: (cpuEnd - cpuFrom) / ((end - from) / 1000),
    rssMiB: rssOf(pid) / 1024 ** 2,
  };
}

async function runLoad(s: Scenario, port: number, pid: number): Promise<ServerSample> {
  const out = JSON.parse(
    await pinned([
      ...LOAD,
      `--port=${port}`,
      `--pid=${pid}`,
      `--seconds=${SERVER_SECONDS}`,
      ...s.load!,
    ], SERVER_SECONDS + 60),
  );
  if (out.errors > 0) throw new Error(`Load ${s.id}: ${out.errors} error replies`);
  return {
    ops: out.ops / out.seconds,
    keys: out.keys / out.seconds,
    p50Us: out.p50Us,
    p99Us: out.p99Us,
    cpu: out.serverCpuSeconds / out.seconds,
    rssMiB: out.serverRss / 1024 ** 2,
  };
}

/** Each scenario's samples by target; a scenario left out has no entry. */
type ServerSamples = Record<string, Record<Target, ServerSample[]>>;

/** Measures `scenarios` into `samples`, calling `measured` after each sample. */
async function benchServers(
  scenarios: Scenario[],
  samples: ServerSamples,
  measured: () => void,
): Promise<void> {
  for (const s of scenarios) {
    samples[s.id] = { memcached: [], ours: [], "ours-deno": [], floor: [] };
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of scenarios) {
      const order: Target[] = rep % 2
        ? ["ours", "memcached", "ours-deno"]
        : ["memcached", "ours", "ours-deno"];
      // The floor answers memcaslap's scenarios; (b)'s generator checks values it cannot give.
      if (s.generator === "memcaslap") order.push("floor");
      for (const target of order) {
        await using server = await startServer(target);
        if (s.generator === "_load.ts") await preload(server.port, 100_000);
        const sample = s.generator === "memcaslap"
          ? await runMemcaslap(s, server.port, server.pid)
          : await runLoad(s, server.port, server.pid);
        samples[s.id][target].push(sample);
        measured();
        console.error(
          `server ${s.id} rep ${rep + 1}/${REPS} ${target}: ${Math.round(sample.ops)} ops/s, ` +
            `p99 ${Math.round(sample.p99Us)} us, cpu ${(sample.cpu * 100).toFixed(0)}%`,
        );
      }
    }
  }
}

// ---------------------------------------------------------------- client

interface ClientSample {
  seqSet: number;
  seqGet: number;
  inflight50: number | null;
  getMulti100: number;
  /** The client floor's getMulti of 100 that returns the values, as a client must. */
  getMulti100Values?: number;
  /** getMulti of 100 with 4 calls in flight; null for the synchronous Python clients. */
  getMulti100x4?: number | null;
}

const PEERS = ["memjs", "memcached", "pymemcache", "python-memcached"] as const;
/** "floor" is bench/clients/floor_client.ts: Deno.connect with no client, the least a client can do. */
const CLIENTS = ["ours", ...PEERS, "floor"] as const;
type ClientName = typeof CLIENTS[number];
const CLIENT_LABEL: Record<ClientName, string> = {
  ours: "ours",
  memjs: "npm memjs",
  memcached: "npm memcached",
  pymemcache: "pymemcache",
  "python-memcached": "python-memcached",
  floor: "Deno.connect floor",
};
/** The peer a client needs beyond Deno and memcached. */
const CLIENT_PEER: Partial<Record<ClientName, PeerName>> = {
  memjs: "npm memjs",
  memcached: "npm memcached",
  pymemcache: "pymemcache",
  "python-memcached": "python-memcached",
};

async function runClient(name: ClientName, port: number): Promise<ClientSample> {
  const common = [`--port=${port}`, `--seconds=${CLIENT_SECONDS}`, "--count=100000"];
  const command = name === "pymemcache" || name === "python-memcached"
    ? ["/usr/bin/python3", `${HERE}clients/py_clients.py`, `--client=${name}`, ...common]
    : name === "floor"
    ? [Deno.execPath(), "run", "-A", "--no-lock", `${HERE}clients/floor_client.ts`, ...common]
    : [
      Deno.execPath(),
      "run",
      "-A",
      "--no-lock",
      ...(name === "memjs" || name === "memcached" ? NPM_PEERS[name].flags : []),
      `${HERE}clients/deno_clients.ts`,
      `--client=${name}`,
      ...common,
    ];
  return JSON.parse(await pinned(command, CLIENT_SECONDS * 4 + 90));
}

/** Each client's samples; a client left out has no entry. */
type ClientSamples = Partial<Record<ClientName, ClientSample[]>>;

/** Measures `clients` (ours first) into `samples`, calling `measured` after each sample. */
async function benchClients(
  clients: ClientName[],
  samples: ClientSamples,
  measured: () => void,
): Promise<void> {
  for (const name of clients) samples[name] = [];
  await using server = await startServer("memcached");
  await preload(server.port, 100_000);
  for (let rep = 0; rep < REPS; rep++) {
    // Ours first on even repetitions, last on odd ones.
    const order = rep % 2 ? [...clients.slice(1), clients[0]] : clients;
    for (const name of order) {
      const sample = await runClient(name, server.port);
      samples[name]!.push(sample);
      measured();
      console.error(
        `client rep ${rep + 1}/${REPS} ${name}: seq get ${Math.round(sample.seqGet)}/s, ` +
          `50 in flight ${Math.round(sample.inflight50 ?? NaN)}/s, ` +
          `getMulti ${Math.round(sample.getMulti100)} keys/s`,
      );
    }
  }
}

// ---------------------------------------------------------------- memory

interface MemorySample {
  items: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerItem: number;
}

/** Measures memory per item into `samples`, calling `measured` after each sample. */
async function benchMemory(
  samples: Record<Target, MemorySample[]>,
  measured: () => void,
): Promise<void> {
  for (let rep = 0; rep < REPS; rep++) {
    const order: Target[] = rep % 2 ? ["ours", "memcached"] : ["memcached", "ours"];
    for (const target of order) {
      await using server = await startServer(target);
      await sleep(200);
      const before = rssOf(server.pid);
      await preload(server.port, MEMORY_ITEMS);
      await sleep(500);
      const after = rssOf(server.pid);
      const items = Number((await statsOf(server.port)).curr_items);
      const sample = {
        items,
        rssBeforeMiB: before / 1024 ** 2,
        rssAfterMiB: after / 1024 ** 2,
        bytesPerItem: (after - before) / items,
      };
      samples[target].push(sample);
      measured();
      console.error(
        `memory rep ${rep + 1}/${REPS} ${target}: ${items} items, ` +
          `RSS ${sample.rssAfterMiB.toFixed(1)} MiB, ${sample.bytesPerItem.toFixed(0)} B/item`,
      );
    }
  }
}

// ---------------------------------------------------------------- rows

const SERVER_TARGETS: Record<string, { metric: string; min?: number; max?: number }[]> = {
  a: [{ metric: "ops/s", min: 1.1 }, { metric: "p99 µs", max: 1 }],
  b: [{ metric: "ops/s", min: 2 }],
  c: [{ metric: "keys/s", min: 1 }],
  d: [{ metric: "ops/s", min: 1 }],
};

function serverRows(samples: ServerSamples): Row[] {
  const rows: Row[] = [];
  for (const s of SCENARIOS.filter((s) => samples[s.id] !== undefined)) {
    const m = (t: Target, f: (x: ServerSample) => number) => median(samples[s.id][t].map(f));
    const section = `server ${s.label} [${s.generator}]`;
    const metrics: [string, (x: ServerSample) => number][] = [
      ["ops/s", (x) => x.ops],
      ["keys/s", (x) => x.keys],
      ["p50 µs", (x) => x.p50Us],
      ["p99 µs", (x) => x.p99Us],
      ["server CPU", (x) => x.cpu],
      ["server RSS MiB", (x) => x.rssMiB],
    ];
    for (const [metric, f] of metrics) {
      if (s.id === "d" && metric === "keys/s") continue;
      const t = SERVER_TARGETS[s.id].find((t) => t.metric === metric);
      rows.push(
        row(section, metric, "memcached -t 1", m("memcached", f), m("ours", f), t && { ...t }),
      );
    }
    if (samples[s.id].floor.length > 0) {
      const key = s.id === "c" ? "keys/s" : "ops/s";
      const f = (x: ServerSample) => s.id === "c" ? x.keys : x.ops;
      // What Deno's I/O allows at all, against memcached; then ours against that floor.
      rows.push(
        row(
          section,
          `${key}, floor vs memcached`,
          "memcached -t 1",
          m("memcached", f),
          m("floor", f),
        ),
        row(section, key, "Deno.listen floor", m("floor", f), m("ours", f)),
      );
    }
    // Runs saved before the epoll layer have no Deno.listen rows of ours.
    if ((samples[s.id]["ours-deno"] ?? []).length > 0) {
      const key = s.id === "c" ? "keys/s" : "ops/s";
      const f = (x: ServerSample) => s.id === "c" ? x.keys : x.ops;
      rows.push(
        row(
          section,
          `${key}, ours on Deno.listen vs memcached`,
          "memcached -t 1",
          m("memcached", f),
          m("ours-deno", f),
        ),
        row(
          section,
          `${key}, epoll layer vs Deno.listen layer`,
          "ours on Deno.listen",
          m("ours-deno", f),
          m("ours", f),
        ),
      );
    }
  }
  return rows;
}

function clientRows(samples: ClientSamples): Row[] {
  const rows: Row[] = [];
  const m = (c: ClientName, f: (x: ClientSample) => number | null) =>
    median((samples[c] ?? []).map(f).filter((v): v is number => v !== null));
  // A peer this machine lacks has no entry, and no rows.
  const peers = PEERS.filter((p) => samples[p] !== undefined);
  const phases: [string, (x: ClientSample) => number | null][] = [
    ["sequential get/s", (x) => x.seqGet],
    ["sequential set/s", (x) => x.seqSet],
    ["50 in flight get/s", (x) => x.inflight50],
    ["getMulti 100 keys/s", (x) => x.getMulti100],
    // A synchronous client cannot have calls in flight: its sequential figure stands in.
    ["getMulti 100, 4 in flight keys/s", (x) => x.getMulti100x4 ?? x.getMulti100],
  ];
  for (const [metric, f] of phases) {
    const ours = m("ours", f);
    const fastest = peers.map((p) => [p, m(p, f)] as const)
      .filter(([, v]) => v !== null).sort((a, b) => b[1]! - a[1]!)[0];
    let targetPeer: ClientName | undefined;
    for (const peer of peers) {
      let target: Row["target"];
      if (metric.startsWith("50 in flight") && peer === "memjs") target = { min: 2 };
      if (metric.startsWith("getMulti") && peer === "pymemcache") target = { min: 2 };
      if (metric.startsWith("sequential") && peer === fastest?.[0]) target = { min: 1 };
      if (target !== undefined) targetPeer = peer;
      rows.push(row("client", metric, peerLabel(peer, metric), m(peer, f), ours, target));
    }
    if ((samples.floor ?? []).length === 0) continue;
    // What Deno's I/O allows at all, against the peer the target names; then ours against that
    // floor, which needs no peer.
    if (targetPeer !== undefined) {
      rows.push(
        row(
          "client",
          `${metric}, floor vs ${CLIENT_LABEL[targetPeer]}`,
          peerLabel(targetPeer, metric),
          m(targetPeer, f),
          m("floor", f),
        ),
      );
    }
    rows.push(row("client", metric, CLIENT_LABEL.floor, m("floor", f), ours));
    const values = m("floor", (x) => x.getMulti100Values ?? null);
    if (metric === "getMulti 100 keys/s" && values !== null) {
      // The floor that also copies each value out and returns them by key: what any client
      // that returns values costs on Deno, against the peer; then ours against it.
      const label = `${CLIENT_LABEL.floor} returning values`;
      if (targetPeer !== undefined) {
        rows.push(
          row(
            "client",
            `${metric}, ${label} vs ${CLIENT_LABEL[targetPeer]}`,
            peerLabel(targetPeer, metric),
            m(targetPeer, f),
            values,
          ),
        );
      }
      rows.push(row("client", metric, label, values, ours));
    }
  }
  return rows;
}

function peerLabel(peer: ClientName, metric: string): string {
  const synchronous = peer === "pymemcache" || peer === "python-memcached";
  return CLIENT_LABEL[peer] +
    (synchronous && metric.startsWith("getMulti 100, 4") ? " (sequential)" : "");
}

function memoryRows(samples: Record<Target, MemorySample[]>): Row[] {
  const m = (t: Target, f: (x: MemorySample) => number) => median(samples[t].map(f));
  const section = `memory ${MEMORY_ITEMS.toLocaleString("en-US")} items, 16 B keys, 100 B values`;
  return [
    row(
      section,
      "items stored",
      "memcached -t 1",
      m("memcached", (x) => x.items),
      m("ours", (x) => x.items),
    ),
    row(
      section,
      "RSS after load MiB",
      "memcached -t 1",
      m("memcached", (x) => x.rssAfterMiB),
      m("ours", (x) => x.rssAfterMiB),
    ),
    row(
      section,
      "bytes/item (RSS growth)",
      "memcached -t 1",
      m("memcached", (x) => x.bytesPerItem),
      m("ours", (x) => x.bytesPerItem),
      { max: 1.25 },
    ),
  ];
}

// ---------------------------------------------------------------- run

const started = new Date();
const files = { dir: RESULTS, stamp: started.toISOString().replace(/[:.]/g, "-").slice(0, 19) };
/** Everything measured so far, saved as the raw JSON. */
const raw: {
  quick: boolean;
  reps: number;
  started: string;
  skipped: string[];
  error?: string;
  server?: ServerSamples;
  client?: ClientSamples;
  memory?: Record<Target, MemorySample[]>;
} = { quick: QUICK, reps: REPS, started: started.toISOString(), skipped: [...MISSING.values()] };

/** Writes the results measured so far; `end` says how the run ended, if it has. */
function save(end?: "finished" | "failed"): string {
  const rows = [
    ...(raw.server ? serverRows(raw.server) : []),
    ...(raw.client ? clientRows(raw.client) : []),
    ...(raw.memory ? memoryRows(raw.memory) : []),
  ];
  const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
  // Until the run ends, the files say so: a run killed midway leaves them as they were.
  const state = end === "finished"
    ? ""
    : end === "failed"
    ? ", stopped by an error"
    : ", incomplete";
  const title = `@x/memcache bench${QUICK ? " (quick)" : ""}: medians of ${REPS} runs, ${
    started.toISOString().slice(0, 16)
  }Z, ${minutes} min${state}`;
  const notes = raw.error === undefined ? raw.skipped : [...raw.skipped, `Error: ${raw.error}`];
  return writeResults(files, { title, rows, raw, notes, pinned: has("taskset") });
}

const written = `${RESULTS}bench-${files.stamp}.{md,json,svg} and latest.{md,svg}`;
console.error(`Writing ${written} after every measurement`);
let finished = false;
try {
  if (ONLY.has("server") && has("memcached")) {
    raw.server = {};
    const scenarios = SCENARIOS.filter((s) => s.generator !== "memcaslap" || has("memcaslap"));
    await benchServers(scenarios, raw.server, () => save());
  }
  if (ONLY.has("client") && has("memcached")) {
    raw.client = {};
    const clients = CLIENTS.filter((c) => CLIENT_PEER[c] === undefined || has(CLIENT_PEER[c]));
    await benchClients(clients, raw.client, () => save());
  }
  if (ONLY.has("memory") && has("memcached")) {
    raw.memory = { memcached: [], ours: [], "ours-deno": [], floor: [] };
    await benchMemory(raw.memory, () => save());
  }
  finished = true;
} catch (error) {
  // The first line only: the error itself follows on stderr, whole.
  raw.error = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  throw error;
} finally {
  console.log(save(finished ? "finished" : "failed"));
  console.log(`Wrote ${written}`);
}
