// A compact memcached load generator: N sockets, each sending `depth`
// requests at a time as raw bytes and counting replies, for a bounded time.
// The harness (bench/run.ts) runs it in its own process, pinned to a core of
// its own, so it competes with the server as little as two cores allow.
//
//   deno run -A bench/_load.ts --port=11211 [--conns=50] [--depth=1] [--gets=0.9]
//     [--value=100] [--keys=100000] [--multi=1] [--seconds=5] [--pid=SERVER_PID]
//   deno run -A bench/_load.ts --port=11211 --preload [--keys=N] [--value=100]
//
// Prints one JSON line: ops (replies), keys (VALUE blocks received), errors,
// seconds, latency p50/p99 in microseconds (from the write of a batch to the
// read that completed each reply), and the CPU seconds used by the server
// (`--pid`) and by this generator over the load window, read from /proc.
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    conns: { type: "string", default: "50" },
    depth: { type: "string", default: "1" },
    gets: { type: "string", default: "0.9" },
    value: { type: "string", default: "100" },
    keys: { type: "string", default: "100000" },
    "key-length": { type: "string", default: "16" },
    multi: { type: "string", default: "1" },
    seconds: { type: "string", default: "5" },
    pid: { type: "string" },
    preload: { type: "boolean", default: false },
  },
});

const PORT = Number(args.values.port);
const CONNS = Number(args.values.conns);
const DEPTH = Number(args.values.depth);
const GET_RATIO = Number(args.values.gets);
const VALUE_SIZE = Number(args.values.value);
const KEY_COUNT = Number(args.values.keys);
const KEY_LENGTH = Number(args.values["key-length"]);
const MULTI = Number(args.values.multi);
const SECONDS = Number(args.values.seconds);
const SERVER_PID = args.values.pid === undefined ? undefined : Number(args.values.pid);
if (!(PORT > 0) || !(CONNS > 0) || !(DEPTH > 0) || !(MULTI > 0) || !(SECONDS > 0)) {
  throw new RangeError("Cannot run the load: bad --port, --conns, --depth, --multi or --seconds");
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
/** Key i as `key:` and zero-padded digits, KEY_LENGTH bytes. */
function keyOf(i: number): Uint8Array {
  const digits = String(i).padStart(KEY_LENGTH - 4, "0");
  return encoder.encode(`key:${digits}`);
}
const KEYS = Array.from({ length: KEY_COUNT }, (_, i) => keyOf(i));
const VALUE = new Uint8Array(VALUE_SIZE).fill(0x78);
const GET = encoder.encode("get");
const SET_TAIL = encoder.encode(` 0 0 ${VALUE_SIZE}\r\n`);
const SET = encoder.encode("set ");
const SET_NOREPLY_TAIL = encoder.encode(` 0 0 ${VALUE_SIZE} noreply\r\n`);

/** A small seeded PRNG (mulberry32), so runs pick the same keys against each server. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15; after "pid (comm) " they are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
}

/** Counts replies in a byte stream: VALUE blocks are skipped by length; END, STORED and anything else end a reply. */
class ReplyCounter {
  buf = new Uint8Array(64 * 1024);
  start = 0;
  end = 0;
  skip = 0;
  keys = 0;
  errors = 0;

  /** Reads once into the buffer; returns false on EOF. */
  async fill(conn: Deno.Conn): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    else if (this.end === this.buf.length) {
      if (this.start === 0) {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
    }
    const n = await conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** Consumes what is buffered; returns the number of replies completed. */
  take(): number {
    let replies = 0;
    const buf = this.buf;
    for (;;) {
      if (this.skip > 0) {
        const available = this.end - this.start;
        if (available <= this.skip) {
          this.skip -= available;
          this.start = this.end;
          return replies;
        }
        this.start += this.skip;
        this.skip = 0;
      }
      const lf = buf.indexOf(0x0a, this.start);
      if (lf < 0 || lf >= this.end) return replies;
      const first = buf[this.start];
      if (first === 0x56 /* V */ && buf[this.start + 1] === 0x41 /* A */) {
        let at = lf - 1; // CR
        let size = 0, scale = 1;
        while (buf[--at] !== 0x20) {
          size += (buf[at] - 0x30) * scale;
          scale *= 10;
        }
        this.skip = size + 2;
        this.keys++;
      } else if (first === 0x45 /* E */ && buf[this.start + 1] === 0x4e /* N */) {
        replies++;
      } else if (first === 0x56 /* V */ && buf[this.start + 1] === 0x45 /* E */) {
        replies++; // VERSION
      } else if (first === 0x53 /* S */ && buf[this.start + 1] === 0x54 /* T */) {
        replies++;
      } else {
        this.errors++;
        replies++;
      }
      this.start = lf + 1;
    }
  }
}

async function connect(): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
  conn.setNoDelay(true);
  return conn;
}

/** Sets every key with noreply in batches, a `version` after each to keep the pipe bounded; then reads each key once. */
async function preload(): Promise<void> {
  const conn = await connect();
  const counter = new ReplyCounter();
  const BATCH = 500;
  const per = SET.length + KEY_LENGTH + SET_NOREPLY_TAIL.length + VALUE_SIZE + 2;
  const out = new Uint8Array(BATCH * per + 16);
  const version = encoder.encode("version\r\n");
  for (let i = 0; i < KEY_COUNT; i += BATCH) {
    let at = 0;
    for (let j = i; j < Math.min(KEY_COUNT, i + BATCH); j++) {
      out.set(SET, at);
      out.set(KEYS[j], at += SET.length);
      out.set(SET_NOREPLY_TAIL, at += KEYS[j].length);
      out.set(VALUE, at += SET_NOREPLY_TAIL.length);
      out.set(CRLF, at += VALUE_SIZE);
      at += 2;
    }
    out.set(version, at);
    await writeAll(conn, out.subarray(0, at + version.length));
    let replies = 0;
    while (replies < 1) {
      if (!(await counter.fill(conn))) throw new Error("Cannot preload: the server closed");
      replies += counter.take();
    }
  }
  // Then read every key once. A server's first read of an item costs it more
  // than later ones (memcached marks the item fetched and moves it between
  // its LRU segments), so without this sweep the first load after a preload
  // would meet a different server than the ones after it.
  for (let i = 0; i < KEY_COUNT; i += 100) {
    const keys = KEYS.slice(i, i + 100);
    const line = new Uint8Array(GET.length + keys.reduce((n, k) => n + 1 + k.length, 0) + 2);
    line.set(GET);
    let at = GET.length;
    for (const key of keys) {
      line[at++] = 0x20;
      line.set(key, at);
      at += key.length;
    }
    line.set(CRLF, at);
    await writeAll(conn, line);
    let replies = 0;
    while (replies < 1) {
      if (!(await counter.fill(conn))) throw new Error("Cannot preload: the server closed");
      replies += counter.take();
    }
  }
  if (counter.keys !== KEY_COUNT) {
    throw new Error(`Cannot preload: ${counter.keys} of ${KEY_COUNT} keys read back`);
  }
  conn.close();
}

const HISTOGRAM_MAX_US = 1_000_000;
const histogram = new Uint32Array(HISTOGRAM_MAX_US + 1);

function percentile(p: number, total: number): number {
  const rank = Math.ceil(total * p);
  let seen = 0;
  for (let us = 0; us <= HISTOGRAM_MAX_US; us++) {
    seen += histogram[us];
    if (seen >= rank) return us;
  }
  return HISTOGRAM_MAX_US;
}

async function worker(id: number, deadline: number): Promise<[number, number, number]> {
  const conn = await connect();
  const random = prng(id + 1);
  const counter = new ReplyCounter();
  const getSize = GET.length + MULTI * (KEY_LENGTH + 1) + 2;
  const setSize = SET.length + KEY_LENGTH + SET_TAIL.length + VALUE_SIZE + 2;
  const out = new Uint8Array(DEPTH * Math.max(getSize, setSize));
  let ops = 0;
  try {
    while (performance.now() < deadline) {
      let at = 0;
      for (let d = 0; d < DEPTH; d++) {
        if (random() < GET_RATIO) {
          out.set(GET, at);
          at += GET.length;
          for (let m = 0; m < MULTI; m++) {
            out[at++] = 0x20;
            const key = KEYS[(random() * KEY_COUNT) | 0];
            out.set(key, at);
            at += key.length;
          }
          out.set(CRLF, at);
          at += 2;
        } else {
          const key = KEYS[(random() * KEY_COUNT) | 0];
          out.set(SET, at);
          out.set(key, at += SET.length);
          out.set(SET_TAIL, at += key.length);
          out.set(VALUE, at += SET_TAIL.length);
          out.set(CRLF, at += VALUE_SIZE);
          at += 2;
        }
      }
      const sent = performance.now();
      await writeAll(conn, out.subarray(0, at));
      let replies = 0;
      while (replies < DEPTH) {
        if (!(await counter.fill(conn))) throw new Error("Cannot run the load: the server closed");
        const done = counter.take();
        if (done > 0) {
          const us = Math.min(HISTOGRAM_MAX_US, Math.round((performance.now() - sent) * 1000));
          histogram[us] += done;
          replies += done;
        }
      }
      ops += DEPTH;
    }
  } finally {
    conn.close();
  }
  return [ops, counter.keys, counter.errors];
}

if (args.values.preload) {
  await preload();
  console.log(JSON.stringify({ preloaded: KEY_COUNT }));
} else {
  const serverCpu0 = SERVER_PID === undefined ? 0 : cpuSeconds(SERVER_PID);
  const selfCpu0 = cpuSeconds("self");
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const results = await Promise.all(Array.from({ length: CONNS }, (_, i) => worker(i, deadline)));
  const seconds = (performance.now() - started) / 1000;
  const ops = results.reduce((a, r) => a + r[0], 0);
  const keys = results.reduce((a, r) => a + r[1], 0);
  const errors = results.reduce((a, r) => a + r[2], 0);
  console.log(JSON.stringify({
    ops,
    keys,
    errors,
    seconds,
    p50Us: percentile(0.5, ops),
    p99Us: percentile(0.99, ops),
    serverCpuSeconds: SERVER_PID === undefined ? null : cpuSeconds(SERVER_PID) - serverCpu0,
    serverRss: SERVER_PID === undefined ? null : rssBytes(SERVER_PID),
    loadCpuSeconds: cpuSeconds("self") - selfCpu0,
  }));
}
