/**
 * Peers that misbehave slowly, for the tests and `bench/slow_peers.ts`: a
 * pipeliner that never reads, senders that stop halfway through a value, a
 * flooder of `noreply` sets; and what is measured while they hang on: the
 * server's own resident memory and how long a fresh client waits.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The resident memory of process `pid` in bytes (VmRSS in /proc/<pid>/status). */
export async function vmRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = status.match(/^VmRSS:\s+(\d+) kB$/m);
  if (kib === null) throw new Error(`Cannot read VmRSS of process ${pid}`);
  return Number(kib[1]) * 1024;
}

/** How a fresh client fared: replies received and the waits in milliseconds. */
export interface Latency {
  replies: number;
  p99Ms: number;
  maxMs: number;
}

/** Reads from `conn` until the bytes received end with `end`; throws when the server closes. */
async function readUntil(conn: Deno.Conn, buf: Uint8Array, end: string): Promise<void> {
  let tail = "";
  while (!tail.endsWith(end)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("Cannot probe: the server closed the connection");
    tail = (tail + String.fromCharCode(...buf.subarray(0, n))).slice(-end.length);
  }
}

/**
 * Connects a fresh client and times `set` then `get` of a small item, one
 * request at a time, for `ms` milliseconds; the connect counts in the first wait.
 */
export async function probe(port: number, ms: number): Promise<Latency> {
  const waits: number[] = [];
  const buf = new Uint8Array(4096);
  const set = encoder.encode("set probe 0 0 5\r\nhello\r\n");
  const get = encoder.encode("get probe\r\n");
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let from = started;
    for (let i = 0; performance.now() - started < ms; i++) {
      await conn.write(i % 2 === 0 ? set : get);
      await readUntil(conn, buf, i % 2 === 0 ? "STORED\r\n" : "END\r\n");
      const now = performance.now();
      waits.push(now - from);
      from = now;
    }
  } finally {
    conn.close();
  }
  waits.sort((a, b) => a - b);
  return {
    replies: waits.length,
    p99Ms: waits[Math.min(waits.length - 1, Math.floor(waits.length * 0.99))],
    maxMs: waits[waits.length - 1],
  };
}

/** Whether `error` is what a socket's pending write fails with once it is closed or reset. */
function isClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

/** Open connections that close together. */
export class Peers implements AsyncDisposable {
  readonly conns: Deno.Conn[] = [];
  /** Writes the server may never take, which end when their connection closes. */
  readonly writes: Promise<unknown>[] = [];

  /** Closes every connection and waits for the writes left hanging. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const conn of this.conns) {
      try {
        conn.close();
      } catch { /* the server closed it first */ }
    }
    this.conns.length = 0;
    for (const error of await Promise.all(this.writes)) {
      // A write still waiting on a silent reader's full socket fails once it is closed: that is its end.
      if (error !== undefined && !isClosed(error)) throw error;
    }
    this.writes.length = 0;
  }
}

/**
 * Slowloris: `count` connections each send a `set` of `size` bytes and half
 * its data, then stall.
 */
export async function halfSentSets(port: number, count: number, size: number): Promise<Peers> {
  const peers = new Peers();
  const half = new Uint8Array(Math.floor(size / 2)).fill(0x76);
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    peers.conns.push(conn);
    await conn.write(encoder.encode(`set slow${i} 0 0 ${size}\r\n`));
    // The kernel takes half a megabyte at once on loopback; the write does not wait for the server.
    for (let at = 0; at < half.length;) at += await conn.write(half.subarray(at));
  }
  return peers;
}

/**
 * Stores a value of `size` bytes, then `readers` connections each pipeline
 * `gets` gets of it and never read a byte.
 */
export async function silentReaders(
  port: number,
  readers: number,
  gets: number,
  size: number,
): Promise<Peers> {
  const peers = new Peers();
  const setter = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await setter.write(encoder.encode(`set big 0 0 ${size}\r\n`));
    const value = new Uint8Array(size).fill(0x62);
    for (let at = 0; at < size;) at += await setter.write(value.subarray(at));
    await setter.write(encoder.encode("\r\n"));
    await readUntil(setter, new Uint8Array(64), "STORED\r\n");
  } finally {
    setter.close();
  }
  const requests = encoder.encode("get big\r\n".repeat(gets));
  for (let i = 0; i < readers; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    peers.conns.push(conn);
    // The server stops reading once its replies back up, so the rest of the gets may never be taken.
    peers.writes.push(conn.write(requests).then(() => undefined, (error: unknown) => error));
  }
  return peers;
}

/** A separate process flooding `noreply` sets on one connection for `seconds`, never reading. */
export function flood(port: number, seconds: number): Deno.ChildProcess {
  const script = `
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: ${port} });
    const value = "x".repeat(100);
    let batch = "";
    for (let i = 0; i < 2000; i++) batch += "set flood" + (i % 100) + " 0 0 100 noreply\\r\\n" + value + "\\r\\n";
    const bytes = new TextEncoder().encode(batch);
    const end = performance.now() + ${seconds * 1000};
    while (performance.now() < end) await conn.write(bytes);
    conn.close();
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
