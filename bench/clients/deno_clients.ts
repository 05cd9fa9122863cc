// One Deno client against one memcached: sequential sets and gets, gets with
// 50 calls in flight, and getMulti of 100 keys, one at a time and 4 in flight. Each phase stops at --count
// operations or after --seconds, whichever comes first. Prints one JSON line.
//
//   deno run -A --no-lock bench/clients/deno_clients.ts --client=ours|memjs|memcached --port=P
//
// The npm peers (pinned in _npm.ts) are imported dynamically from a variable,
// so that `deno check .` does not resolve them: they are bench-only and stay
// out of the package's dependencies (and out of a lock file).
import { parseArgs } from "node:util";
import { Client } from "../../client/mod.ts";
import { NPM_PEERS } from "./_npm.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    client: { type: "string", default: "ours" },
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

/** The calls the phases need, in promise form. */
interface Calls {
  get(key: string): Promise<unknown>;
  set(key: string, value: Uint8Array): Promise<unknown>;
  /** Resolves to the number of keys found. */
  getMulti(keys: string[]): Promise<number>;
  close(): void;
}

async function npm(name: keyof typeof NPM_PEERS): Promise<Record<string, unknown>> {
  return await import(NPM_PEERS[name].specifier);
}

async function open(kind: string): Promise<Calls> {
  const address = `127.0.0.1:${PORT}`;
  if (kind === "ours") {
    const client = new Client([address]);
    return {
      get: (key) => client.get(key),
      set: (key, value) => client.set(key, value),
      getMulti: async (keys) => Object.keys(await client.getMulti(keys)).length,
      close: () => client.close(),
    };
  }
  if (kind === "memjs") {
    // deno-lint-ignore no-explicit-any
    const memjs = (await npm("memjs")).default as any;
    const client = memjs.Client.create(address, { logger: { log() {} } });
    return {
      get: (key) => client.get(key),
      set: (key, value) => client.set(key, value, { expires: 0 }),
      // memjs has no multi-get: 100 gets in flight at once is its nearest form.
      getMulti: async (keys) =>
        (await Promise.all(keys.map((k) => client.get(k)))).filter((r) => r.value !== null)
          .length,
      close: () => client.close(),
    };
  }
  if (kind === "memcached") {
    // deno-lint-ignore no-explicit-any
    const Memcached = (await npm("memcached")).default as any;
    const client = new Memcached(address, { retries: 0, timeout: 5000 });
    const call = <T>(f: (cb: (error: unknown, result: T) => void) => void) =>
      new Promise<T>((resolve, reject) =>
        f((error, result) => error ? reject(error) : resolve(result))
      );
    return {
      get: (key) => call((cb) => client.get(key, cb)),
      set: (key, value) => call((cb) => client.set(key, value, 0, cb)),
      getMulti: async (keys) =>
        Object.keys(await call<Record<string, unknown>>((cb) => client.getMulti(keys, cb)))
          .length,
      close: () => client.end(),
    };
  }
  throw new RangeError(`Cannot run client "${kind}": unknown`);
}

/** Runs `step(i)` for i = 0, 1, ... until COUNT or the deadline; returns ops/s. */
async function sequential(step: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let done = 0;
  while (done < COUNT && performance.now() < deadline) await step(done++);
  return done / ((performance.now() - started) / 1000);
}

const calls = await open(args.values.client!);
// An untimed warm-up, the same for every client: the first connection, and the JIT for the
// hot paths.
for (let i = 0; i < 2000; i++) {
  await calls.set(KEYS[i % KEY_COUNT], VALUE);
  await calls.get(KEYS[i % KEY_COUNT]);
}
const seqSet = await sequential((i) => calls.set(KEYS[i % KEY_COUNT], VALUE));
const seqGet = await sequential((i) => calls.get(KEYS[i % KEY_COUNT]));

let next = 0;
const started = performance.now();
const deadline = started + SECONDS * 1000;
await Promise.all(Array.from({ length: 50 }, async () => {
  while (next < COUNT && performance.now() < deadline) await calls.get(KEYS[next++ % KEY_COUNT]);
}));
const inflight50 = next / ((performance.now() - started) / 1000);

let found = 0;
const multiStarted = performance.now();
const multiDeadline = multiStarted + SECONDS * 1000;
for (let i = 0; i < COUNT && performance.now() < multiDeadline; i += 100) {
  found += await calls.getMulti(KEYS.slice(i % KEY_COUNT, (i % KEY_COUNT) + 100));
}
const getMulti100 = found / ((performance.now() - multiStarted) / 1000);

// The same keys with 4 getMulti calls in flight, as a Promise API is used. Each call adds its
// own count after its await (`found += await ...` would lose the others' counts).
let foundInFlight = 0;
let batch = 0;
const flightStarted = performance.now();
const flightDeadline = flightStarted + SECONDS * 1000;
await Promise.all(Array.from({ length: 4 }, async () => {
  while (batch * 100 < COUNT && performance.now() < flightDeadline) {
    const at = (batch++ * 100) % KEY_COUNT;
    const got = await calls.getMulti(KEYS.slice(at, at + 100));
    foundInFlight += got;
  }
}));
const getMulti100x4 = foundInFlight / ((performance.now() - flightStarted) / 1000);
calls.close();
console.log(JSON.stringify({ seqSet, seqGet, inflight50, getMulti100, getMulti100x4 }));
// Some npm clients keep timers alive after close.
Deno.exit(0);
