// Writes far more than -m of distinct values into a server and reports its
// resident memory, then checks every read is a hit with the right bytes or a
// clean miss.
//
//   deno run -A bench/server_memory.ts [--gigabytes=1] [--value=1024] [--memcached]
//
// Without --memcached it runs our server (server/mod.ts); with it, Debian's
// memcached -t 1, for the same figures side by side.
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    gigabytes: { type: "string", default: "1" },
    value: { type: "string", default: "1024" },
    memcached: { type: "boolean", default: false },
  },
});
const valueSize = Number(args.values.value);
const total = Math.round(Number(args.values.gigabytes) * 1024 ** 3);
const count = Math.floor(total / valueSize);

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

const port = freePort();
const command = args.values.memcached
  ? new Deno.Command("memcached", {
    args: [
      ...(Deno.uid() === 0 ? ["-u", "root"] : []),
      "-t",
      "1",
      "-U",
      "0",
      "-l",
      "127.0.0.1",
      "-p",
      String(port),
      "-m",
      "64",
    ],
  })
  : new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../server/mod.ts", import.meta.url).pathname,
      "-p",
      String(port),
      "-m",
      "64",
    ],
  });
const server = command.spawn();
let conn: Deno.TcpConn | undefined;
for (let i = 0; i < 500 && conn === undefined; i++) {
  conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => undefined);
  if (conn === undefined) await new Promise((r) => setTimeout(r, 20));
}
if (conn === undefined) throw new Error("Cannot connect to the server");

const encoder = new TextEncoder();
function valueOf(i: number): Uint8Array {
  const v = new Uint8Array(valueSize).fill(0x61 + (i % 26));
  v.set(encoder.encode(String(i)));
  return v;
}

// Writes go out in batches of noreply sets; a `version` after each batch keeps the pipe bounded.
const BATCH = 256;
const started = performance.now();
let peak = 0;
const reader = new Uint8Array(64 * 1024);
for (let i = 0; i < count; i += BATCH) {
  const parts: Uint8Array[] = [];
  for (let j = i; j < Math.min(count, i + BATCH); j++) {
    parts.push(
      encoder.encode(`set key:${j} 0 0 ${valueSize} noreply\r\n`),
      valueOf(j),
      encoder.encode("\r\n"),
    );
  }
  parts.push(encoder.encode("version\r\n"));
  const size = parts.reduce((a, p) => a + p.length, 0);
  const batch = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    batch.set(p, at);
    at += p.length;
  }
  for (let sent = 0; sent < batch.length;) sent += await conn.write(batch.subarray(sent));
  let reply = "";
  while (!reply.endsWith("\r\n")) {
    reply += new TextDecoder().decode(reader.subarray(0, (await conn.read(reader))!));
  }
  if (!reply.startsWith("VERSION")) throw new Error(`Unexpected reply: ${reply}`);
  if ((i / BATCH) % 64 === 0) peak = Math.max(peak, rssOf(server.pid));
}
const seconds = (performance.now() - started) / 1000;
peak = Math.max(peak, rssOf(server.pid));

// Reads: every 97th key, in gets of 50 keys; each is a hit with its bytes or a miss.
let hits = 0, misses = 0;
const decoder = new TextDecoder("latin1");
for (let i = 0; i < count; i += 97 * 50) {
  const keys = Array.from({ length: 50 }, (_, k) => i + k * 97).filter((k) => k < count);
  await conn.write(encoder.encode(`get ${keys.map((k) => `key:${k}`).join(" ")}\r\n`));
  let reply = "";
  while (!reply.endsWith("END\r\n")) {
    reply += decoder.decode(reader.subarray(0, (await conn.read(reader))!), { stream: true });
  }
  const found = new Map<string, string>();
  const pattern = /VALUE (key:\d+) 0 (\d+)\r\n/g;
  for (let m = pattern.exec(reply); m; m = pattern.exec(reply)) {
    const start = m.index + m[0].length;
    found.set(m[1], reply.slice(start, start + Number(m[2])));
  }
  for (const k of keys) {
    const got = found.get(`key:${k}`);
    if (got === undefined) misses++;
    else if (got === decoder.decode(valueOf(k))) hits++;
    else throw new Error(`Wrong value for key:${k}`);
  }
}
const stats = await (async () => {
  await conn.write(encoder.encode("stats\r\n"));
  let reply = "";
  while (!reply.endsWith("END\r\n")) {
    reply += decoder.decode(reader.subarray(0, (await conn.read(reader))!));
  }
  return reply;
})();
conn.close();
server.kill("SIGTERM");
await server.status;
const stat = (name: string) => new RegExp(`STAT ${name} (\\d+)`).exec(stats)?.[1];
console.log(JSON.stringify({
  server: args.values.memcached ? "memcached -t 1" : "ours",
  written: `${count} values of ${valueSize} B (${(count * valueSize / 1024 ** 3).toFixed(2)} GiB)`,
  seconds: Number(seconds.toFixed(1)),
  setsPerSecond: Math.round(count / seconds),
  peakRssMiB: Number((peak / 1024 ** 2).toFixed(1)),
  curr_items: Number(stat("curr_items")),
  evictions: Number(stat("evictions")),
  reads: { hits, misses, wrong: 0 },
}));
