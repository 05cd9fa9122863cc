/**
 * How long `lru_crawler metadump all` takes over a loaded cache, and how a
 * running `watch fetchers` slows gets: ours beside Debian's memcached -t 1,
 * in the same run, alternating which goes first.
 *
 *   deno run -A bench/metadump.ts [--items=200000] [--reps=3]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startOurServer, startReference } from "../tests/_servers.ts";

const args = parseArgs({
  args: Deno.args,
  options: { items: { type: "string", default: "200000" }, reps: { type: "string", default: "3" } },
});
const ITEMS = Number(args.values.items);
const REPS = Number(args.values.reps);
const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");

/** Sends `text` and reads until the reply ends with `end`; the seconds it took. */
async function timed(conn: Deno.Conn, text: string, end: string): Promise<number> {
  const start = performance.now();
  await conn.write(encoder.encode(text));
  const buf = new Uint8Array(1 << 20);
  let tail = "";
  while (!tail.endsWith(end)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("Cannot measure: the server closed the connection");
    tail = (tail + decoder.decode(buf.subarray(0, n))).slice(-64);
  }
  return (performance.now() - start) / 1000;
}

async function load(conn: Deno.Conn): Promise<void> {
  for (let i = 0; i < ITEMS; i += 10_000) {
    let text = "";
    for (let j = i; j < Math.min(ITEMS, i + 10_000); j++) {
      text += `set key:${j} 0 0 100 noreply\r\n${"v".repeat(100)}\r\n`;
    }
    await timed(conn, `${text}version\r\n`, "\r\n");
  }
}

/** 100 pipelined batches of 1,000 gets; the seconds they took. */
async function gets(conn: Deno.Conn): Promise<number> {
  const batch = Array.from({ length: 1000 }, (_, i) => `get key:${i}\r\n`).join("") + "version\r\n";
  let seconds = 0;
  for (let i = 0; i < 100; i++) seconds += await timed(conn, batch, "VERSION 1.6.18\r\n");
  return seconds;
}

async function measure(name: string, start: () => Promise<{ port: number } & AsyncDisposable>) {
  await using server = await start();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await load(conn);
    const dump = await timed(conn, "lru_crawler metadump all\r\n", "END\r\n");
    const plain = await gets(conn);
    const watcher = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await watcher.write(encoder.encode("watch fetchers\r\n"));
    // The watcher reads as fast as it can; the figure is what logging costs the gets.
    const draining = (async () => {
      const buf = new Uint8Array(1 << 20);
      while (await watcher.read(buf).catch(() => null) !== null);
    })();
    const watched = await gets(conn);
    watcher.close();
    await draining;
    return { name, dump, plain, watched };
  } finally {
    conn.close();
  }
}

const rows: Awaited<ReturnType<typeof measure>>[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const order = rep % 2 === 0
    ? [["ours", () => startOurServer([])], ["memcached", () => startReference([])]] as const
    : [["memcached", () => startReference([])], ["ours", () => startOurServer([])]] as const;
  for (const [name, start] of order) rows.push(await measure(name, start));
}
console.log(`${ITEMS} items of 100 bytes; 100,000 gets in pipelined batches of 1,000`);
console.log("server     metadump s   gets s   gets s (watch fetchers)");
for (const r of rows) {
  console.log(
    `${r.name.padEnd(10)} ${r.dump.toFixed(3).padStart(10)} ${r.plain.toFixed(3).padStart(8)} ${
      r.watched.toFixed(3).padStart(8)
    }`,
  );
}
