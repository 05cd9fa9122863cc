/**
 * Many tiny items within `-m`: loads items of 10-byte keys and 1-byte values
 * into a server process with pipelined noreply sets, then reads the
 * process's resident memory and its `stats`.
 *
 *   deno run -A bench/tiny_items.ts [--memcached] [--m=64] [--items=3000000]
 *
 * Without --memcached it runs our server (server/mod.ts); with it, Debian's
 * memcached -t 1, for the same figures side by side.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startOurServer, startReference } from "../tests/_servers.ts";
import { vmRss } from "../tests/_slow_peers.ts";

/** What a load left behind in the server process. */
export interface TinyItemsResult {
  /** VmRSS before the load, in bytes. */
  rssBefore: number;
  /** VmRSS after the load, in bytes. */
  rssAfter: number;
  /** The highest VmRSS read during the load, in bytes. */
  rssPeak: number;
  /** `stats` curr_items after the load. */
  currItems: number;
  /** `stats` evictions after the load. */
  evictions: number;
  /** `stats` total_items after the load. */
  totalItems: number;
  /** Seconds the load took. */
  seconds: number;
}

/** Sets per pipelined batch; a `version` after each keeps the pipe bounded. */
const BATCH = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");

/** The bytes of `count` sets from item `from`: `set k<n> 0 0 1 noreply`, n in 9 digits. */
function batchBytes(from: number, count: number): Uint8Array {
  const line = encoder.encode("set k000000000 0 0 1 noreply\r\nx\r\n");
  const out = new Uint8Array(line.length * count + "version\r\n".length);
  for (let i = 0; i < count; i++) {
    const at = i * line.length;
    out.set(line, at);
    const digits = String(from + i).padStart(9, "0");
    for (let d = 0; d < 9; d++) out[at + 5 + d] = digits.charCodeAt(d);
  }
  out.set(encoder.encode("version\r\n"), line.length * count);
  return out;
}

async function readUntil(conn: Deno.Conn, end: string, buffer: Uint8Array): Promise<string> {
  let reply = "";
  while (!reply.endsWith(end)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`Cannot read the reply: the server closed after "${reply}"`);
    reply += decoder.decode(buffer.subarray(0, n));
  }
  return reply;
}

/**
 * Loads `items` tiny items into the server at `port` (process `pid`) and
 * reads its RSS and counters.
 *
 * @param target The server's port and process id.
 * @param items How many distinct keys to set.
 * @returns The server's RSS before, during and after, and its counters.
 * @throws {Error} If the server closes or answers a batch with anything but `VERSION`.
 */
export async function loadTinyItems(
  target: { port: number; pid: number },
  items: number,
): Promise<TinyItemsResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: target.port });
  try {
    const buffer = new Uint8Array(64 * 1024);
    const rssBefore = await vmRss(target.pid);
    let rssPeak = rssBefore;
    const started = performance.now();
    for (let from = 0; from < items; from += BATCH) {
      const bytes = batchBytes(from, Math.min(BATCH, items - from));
      for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
      const reply = await readUntil(conn, "\r\n", buffer);
      if (!reply.startsWith("VERSION")) throw new Error(`Unexpected reply: ${reply}`);
      rssPeak = Math.max(rssPeak, await vmRss(target.pid));
    }
    const seconds = (performance.now() - started) / 1000;
    const rssAfter = await vmRss(target.pid);
    await conn.write(encoder.encode("stats\r\n"));
    const stats = await readUntil(conn, "END\r\n", buffer);
    const stat = (name: string) => Number(new RegExp(`STAT ${name} (\\d+)`).exec(stats)?.[1]);
    return {
      rssBefore,
      rssAfter,
      rssPeak: Math.max(rssPeak, rssAfter),
      currItems: stat("curr_items"),
      evictions: stat("evictions"),
      totalItems: stat("total_items"),
      seconds,
    };
  } finally {
    conn.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs({
    args: Deno.args,
    options: {
      memcached: { type: "boolean", default: false },
      m: { type: "string", default: "64" },
      items: { type: "string", default: "3000000" },
    },
  });
  const megabytes = Number(args.values.m);
  const items = Number(args.values.items);
  const flags = ["-m", String(megabytes)];
  await using server = args.values.memcached
    ? await startReference(flags)
    : await startOurServer(flags);
  const r = await loadTinyItems({ port: server.port, pid: server.process.pid }, items);
  const mib = (n: number) => Number((n / 1024 ** 2).toFixed(1));
  const limit = megabytes * 1024 ** 2;
  console.log(JSON.stringify({
    server: args.values.memcached ? "memcached -t 1" : "ours",
    m: megabytes,
    items,
    seconds: Number(r.seconds.toFixed(1)),
    rssBeforeMiB: mib(r.rssBefore),
    rssAfterMiB: mib(r.rssAfter),
    rssPeakMiB: mib(r.rssPeak),
    rssOverM: Number((r.rssAfter / limit).toFixed(2)),
    peakOverM: Number((r.rssPeak / limit).toFixed(2)),
    curr_items: r.currItems,
    evictions: r.evictions,
    total_items: r.totalItems,
  }));
}

if (import.meta.main) await main();
