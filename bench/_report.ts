// What a run of bench/run.ts leaves behind: the Markdown report it prints,
// saved with the raw JSON and an SVG chart in bench/results/. The harness
// writes them again after every measurement, so a run that stops keeps all
// that it measured before.
import { chart, type Row } from "./_chart.ts";

/** A row of the table: ours against one peer, with the ratio and the target's verdict. */
export function row(
  section: string,
  metric: string,
  peer: string,
  peerValue: number | null,
  ours: number | null,
  target?: Row["target"],
): Row {
  const ratio = peerValue === null || ours === null || peerValue === 0 ? null : ours / peerValue;
  let verdict: Row["verdict"];
  if (target !== undefined) {
    verdict = ratio === null
      ? "n/a"
      : (target.min !== undefined ? ratio >= target.min : ratio <= target.max!)
      ? "pass"
      : "FAIL";
  }
  return { section, metric, peer, peerValue, ours, ratio, target, verdict };
}

function format(value: number | null, metric: string): string {
  if (value === null) return "n/a";
  if (metric.includes("CPU")) return `${(value * 100).toFixed(0)}%`;
  if (metric.includes("MiB")) return value.toFixed(1);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(value >= 100 ? 0 : 1);
}

function markdown(rows: Row[]): string {
  const lines = [
    "| section | metric | peer | peer | ours | ours/peer | target | verdict |",
    "| --- | --- | --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const target = r.target?.min !== undefined
      ? `≥ ${r.target.min}x`
      : r.target?.max !== undefined
      ? `≤ ${r.target.max}x`
      : "";
    lines.push(
      `| ${r.section} | ${r.metric} | ${r.peer} | ${format(r.peerValue, r.metric)} | ` +
        `${format(r.ours, r.metric)} | ${r.ratio === null ? "n/a" : r.ratio.toFixed(2) + "x"} | ` +
        `${target} | ${r.verdict ?? ""} |`,
    );
  }
  return lines.join("\n");
}

const PINNED = [
  "Servers pinned to CPU 0 (taskset -c 0); load generators and clients to CPU 1. The box has",
  "  2 cores, so the generator never shares the server's core, but other work on the box adds noise.",
];
const UNPINNED = [
  "Nothing pinned (no taskset): servers, load generators and clients share the cores, so these",
  "  figures are noisier than and not comparable with pinned runs.",
];
// Continuation lines start with two spaces.
const NOTES = [
  "(a), (c), (d) use memcaslap (C); its p50/p99 are interpolated from its log2 latency histogram,",
  "  so they are approximate (within a power-of-two bucket).",
  "(b) uses bench/_load.ts (Deno; memcaslap cannot pipeline); latencies exact to 1 µs. The Deno",
  "  generator uses most of CPU 1; a generator that is saturated caps both servers alike.",
  "Server CPU: /proc/<pid>/stat utime+stime over the load window / wall time (100% = one core).",
  "Floor: bench/floor_server.ts, a Deno.listen server with no store that answers every get with",
  "  a 100-byte value and every set with STORED; its row against memcached (in the ours column)",
  "  is what Deno's I/O allows, and ours against it is what our server costs on top.",
  "Client: 100k ops per phase, or fewer when a phase reaches its time bound. memjs has no",
  "  multi-get (100 concurrent gets instead); the Python clients are synchronous (no 50 in flight).",
  "Client floor: bench/clients/floor_client.ts, a Deno.connect loop that writes each request into",
  "  one reused buffer and only counts the replies (no promise per call, no reply objects, no",
  "  strings); its row against the target's peer (in the ours column) is what Deno's I/O allows.",
  "  Its getMulti also runs returning the values (each copied out, in an object by key), the",
  "  least any client that returns values does.",
  "Memory: bytes/item = (RSS after loading - RSS before) / curr_items, both servers -m 1024.",
];

// Through a rename, so that a reader, or a run killed midway, never sees half a file.
function write(path: string, text: string): void {
  Deno.writeTextFileSync(`${path}.part`, text);
  Deno.renameSync(`${path}.part`, path);
}

/** The files of one run: `bench-<stamp>.{md,json,svg}` and `latest.{md,svg}` in `dir`. */
export interface ResultFiles {
  dir: string;
  stamp: string;
}

/** What a run has measured so far, and how. */
export interface RunReport {
  /** The report's heading. */
  title: string;
  /** The table. */
  rows: Row[];
  /** Everything measured, saved beside the rows as JSON. */
  raw: Record<string, unknown>;
  /** Notes to put first: the peers the run did without, the error it stopped at. */
  notes: string[];
  /** Whether servers and clients were pinned to their own cores. */
  pinned: boolean;
}

/**
 * Writes, or writes again, a run's results.
 *
 * @param files Where they go.
 * @param run What goes in them.
 * @returns The Markdown report.
 */
export function writeResults(files: ResultFiles, run: RunReport): string {
  const { title, rows, raw } = run;
  const notes = [...run.notes, ...(run.pinned ? PINNED : UNPINNED), ...NOTES];
  const report = `# ${title}\n\n${rows.length > 0 ? markdown(rows) : "Nothing measured."}\n\n${
    notes.map((n) => n.startsWith("  ") ? `  ${n.trim()}` : `- ${n}`).join("\n")
  }\n`;
  const { dir, stamp } = files;
  write(`${dir}bench-${stamp}.md`, report);
  write(`${dir}bench-${stamp}.json`, JSON.stringify({ ...raw, title, rows }, null, 2));
  const svg = chart(title, rows.filter((r) => r.ratio !== null || r.target !== undefined));
  write(`${dir}bench-${stamp}.svg`, svg);
  write(`${dir}latest.svg`, svg);
  write(`${dir}latest.md`, report);
  return report;
}
