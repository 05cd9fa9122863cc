// The floor under the client phases: the least a Deno client can do over
// Deno.connect. It writes each request's bytes into one reused buffer, reads
// until the reply is complete and only counts what came back: no promise per
// call, no reply objects, no value copies, no strings. Whatever a client costs
// above this is its own; what this costs against the Python clients is the
// runtime's. One more getMulti phase returns the values, as any client must:
// each copied out of the read buffer, in an object by key.
//
// The same phases and bounds as deno_clients.ts; prints one JSON line.
//
//   deno run -A bench/clients/floor_client.ts --port=P
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    count: { type: "string", default: "100000" },
    keys: { type: "string", default: "100000" },
    seconds: { type: "string", default: "3" },
  },
});
const PORT = Number(args.values.port);
const COUNT = Number(args.values.count);
const KEY_COUNT = Number(args.values.keys);
const SECONDS = Number(args.values.seconds);
const KEYS = Array.from({ length: KEY_COUNT }, (_, i) => `key:${String(i).padStart(12, "0")}`);
const VALUE = new Uint8Array(100).fill(0x78);
const EMPTY = new Uint8Array(0);
const CR = 13;
const LF = 10;

const conn = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
conn.setNoDelay(true);

// ---------------------------------------------------------------- requests

let out = new Uint8Array(64 * 1024);
let outLength = 0;

function put(text: string): void {
  if (outLength + text.length > out.length) {
    const grown = new Uint8Array(out.length * 2);
    grown.set(out.subarray(0, outLength));
    out = grown;
  }
  for (let i = 0; i < text.length; i++) out[outLength++] = text.charCodeAt(i);
}

function putBytes(bytes: Uint8Array): void {
  out.set(bytes, outLength);
  outLength += bytes.length;
}

async function flush(): Promise<void> {
  for (let sent = 0; sent < outLength;) sent += await conn.write(out.subarray(sent, outLength));
  outLength = 0;
}

// ---------------------------------------------------------------- replies

let input = new Uint8Array(256 * 1024);
let start = 0;
let end = 0;

/** Reads more bytes, keeping the unread ones. */
async function fill(): Promise<void> {
  if (start === end) start = end = 0;
  if (end === input.length) {
    const unread = input.subarray(start, end);
    if (start > 0) input.copyWithin(0, start, end);
    else {
      const grown = new Uint8Array(input.length * 2);
      grown.set(unread);
      input = grown;
    }
    end -= start;
    start = 0;
  }
  const n = await conn.read(input.subarray(end));
  if (n === null) throw new Error("Cannot read: the server closed the connection");
  end += n;
}

/**
 * Consumes one complete reply from the buffer: a one-line reply, or VALUE
 * blocks up to END. Returns the number of VALUE blocks (0 for a one-line
 * reply), or -1 when the reply is not all buffered yet (nothing is consumed).
 */
/** Where the reply `takeReply` consumed last starts in `input`; it ends at `start`. */
let replyStart = 0;

function takeReply(): number {
  let at = start;
  let values = 0;
  while (true) {
    // Searched only up to `end`: past it lie stale bytes, or zeros that a
    // search through the whole buffer would scan on every call.
    const found = input.subarray(at, end).indexOf(LF);
    if (found < 0) return -1;
    const newline = at + found;
    // "VALUE <key> <flags> <bytes>": skip the data block after it.
    if (input[at] === 0x56 /* V */) {
      let length = 0;
      let digit = newline - 2;
      for (let scale = 1; input[digit] !== 0x20; digit--, scale *= 10) {
        length += (input[digit] - 48) * scale;
      }
      at = newline + 1 + length + 2;
      if (at > end) return -1;
      values++;
      continue;
    }
    // END, STORED or any other one-line reply ends it.
    if (input[newline - 1] !== CR) throw new Error("Cannot read: a line without CRLF");
    replyStart = start;
    start = newline + 1;
    return values;
  }
}

/** Reads until one reply is complete; returns its VALUE count. */
async function reply(): Promise<number> {
  for (let values = takeReply();; values = takeReply()) {
    if (values >= 0) return values;
    await fill();
  }
}

// ---------------------------------------------------------------- phases

function getRequest(key: string): void {
  put("get ");
  put(key);
  put("\r\n");
}

function setRequest(key: string): void {
  put("set ");
  put(key);
  put(" 0 0 100\r\n");
  putBytes(VALUE);
  put("\r\n");
}

function multiRequest(at: number): void {
  put("get");
  for (let k = at; k < at + 100 && k < KEY_COUNT; k++) {
    put(" ");
    put(KEYS[k]);
  }
  put("\r\n");
}

/** Runs `step(i)` for i = 0, 1, ... until COUNT or the deadline; returns steps/s. */
async function sequential(step: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let done = 0;
  while (done < COUNT && performance.now() < deadline) await step(done++);
  return done / ((performance.now() - started) / 1000);
}

/**
 * Keeps `depth` requests outstanding: each read answers some, and as many
 * new ones go out in one write. Returns [requests answered, values found].
 */
async function pipelined(
  depth: number,
  request: (i: number) => void,
  limit: number,
  deadline: number,
): Promise<[number, number]> {
  let sent = 0;
  let answered = 0;
  let found = 0;
  while (sent < depth && sent < limit) request(sent++);
  await flush();
  while (answered < sent) {
    await fill();
    for (let values = takeReply(); values >= 0; values = takeReply()) {
      answered++;
      found += values;
    }
    while (sent - answered < depth && sent < limit && performance.now() < deadline) {
      request(sent++);
    }
    if (outLength > 0) await flush();
  }
  return [answered, found];
}

// The same untimed warm-up as the other clients get.
for (let i = 0; i < 2000; i++) {
  setRequest(KEYS[i % KEY_COUNT]);
  await flush();
  await reply();
  getRequest(KEYS[i % KEY_COUNT]);
  await flush();
  await reply();
}

const seqSet = await sequential(async (i) => {
  setRequest(KEYS[i % KEY_COUNT]);
  await flush();
  await reply();
});
const seqGet = await sequential(async (i) => {
  getRequest(KEYS[i % KEY_COUNT]);
  await flush();
  await reply();
});

let started = performance.now();
const [gets] = await pipelined(
  50,
  (i) => getRequest(KEYS[i % KEY_COUNT]),
  COUNT,
  started + SECONDS * 1000,
);
const inflight50 = gets / ((performance.now() - started) / 1000);

let found = 0;
started = performance.now();
const deadline = started + SECONDS * 1000;
for (let i = 0; i < COUNT && performance.now() < deadline; i += 100) {
  multiRequest(i % KEY_COUNT);
  await flush();
  found += await reply();
}
const getMulti100 = found / ((performance.now() - started) / 1000);

// The same, returning the values as a client must: { key: value } with each value copied out of
// the read buffer. The keys become property names while the server answers, as ours does.
let pool = new Uint8Array(8192);
let pooled = 0;

/** Stores the values of the reply just consumed by the keys asked for (in request order); returns how many. */
function values(at: number, found: Record<string, Uint8Array>): number {
  let k = at;
  for (let i = replyStart; input[i] === 0x56 /* V */;) {
    const newline = input.subarray(i, start).indexOf(LF) + i;
    let length = 0;
    for (let digit = newline - 2, scale = 1; input[digit] !== 0x20; digit--, scale *= 10) {
      length += (input[digit] - 48) * scale;
    }
    const data = newline + 1;
    if (pooled + length > pool.length) {
      pool = new Uint8Array(8192);
      pooled = 0;
    }
    const copy = pool.subarray(pooled, pooled + length);
    copy.set(input.subarray(data, data + length));
    pooled = (pooled + length + 7) & ~7;
    found[KEYS[k++]] = copy;
    i = data + length + 2;
  }
  return k - at;
}

let foundValues = 0;
started = performance.now();
const valuesDeadline = started + SECONDS * 1000;
for (let i = 0; i < COUNT && performance.now() < valuesDeadline; i += 100) {
  const at = i % KEY_COUNT;
  const last = Math.min(at + 100, KEY_COUNT);
  multiRequest(at);
  const written = flush();
  const found: Record<string, Uint8Array> = Object.create(null);
  for (let k = at; k < last; k++) found[KEYS[k]] = EMPTY;
  await written;
  await reply();
  // A miss answers nothing: its key is not in the result.
  if (values(at, found) < last - at) {
    for (let k = at; k < last; k++) if (found[KEYS[k]] === EMPTY) delete found[KEYS[k]];
  }
  foundValues += Object.keys(found).length;
}
const getMulti100Values = foundValues / ((performance.now() - started) / 1000);

started = performance.now();
const [, foundInFlight] = await pipelined(
  4,
  (i) => multiRequest((i * 100) % KEY_COUNT),
  COUNT / 100,
  started + SECONDS * 1000,
);
const getMulti100x4 = foundInFlight / ((performance.now() - started) / 1000);
conn.close();
console.log(
  JSON.stringify({ seqSet, seqGet, inflight50, getMulti100, getMulti100Values, getMulti100x4 }),
);
