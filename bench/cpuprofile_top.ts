// The functions with the most self time in a V8 .cpuprofile (as `deno run
// --cpu-prof` writes it), summed over every node of the same function, with
// the time per operation when the number of operations is given.
//
//   deno run -A bench/cpuprofile_top.ts PROFILE.cpuprofile [--top=30] [--ops=N]
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

const args = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { top: { type: "string", default: "30" }, ops: { type: "string" } },
});
const path = args.positionals[0];
if (path === undefined) throw new TypeError("Cannot read the profile: no .cpuprofile path given");
const profile: Profile = JSON.parse(Deno.readTextFileSync(path));
const ops = args.values.ops === undefined ? undefined : Number(args.values.ops);

// A sample's delta is the time since the previous one, charged to the node it caught.
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfTime.set(id, (selfTime.get(id) ?? 0) + profile.timeDeltas[i]);
});
const byFunction = new Map<string, number>();
let total = 0;
for (const { id, callFrame } of profile.nodes) {
  const micros = selfTime.get(id) ?? 0;
  total += micros;
  const file = callFrame.url.split("/").slice(-2).join("/");
  const name = `${callFrame.functionName || "(anonymous)"} ${file}:${callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}
const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(args.values.top));
for (const [name, micros] of rows) {
  const perOp = ops === undefined ? "" : ` ${(micros / ops).toFixed(2).padStart(6)} µs/op`;
  const share = (100 * micros / total).toFixed(1).padStart(5);
  console.log(`${(micros / 1000).toFixed(1).padStart(9)} ms ${share} %${perOp}  ${name}`);
}
console.log(`${(total / 1000).toFixed(1).padStart(9)} ms total`);
