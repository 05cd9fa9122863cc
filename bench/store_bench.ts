/**
 * The store's speed and memory.
 *
 * Speed, each iteration 1,000,000 operations on 16-byte keys and 100-byte
 * values:
 *
 * ```sh
 * deno bench -A bench/store_bench.ts
 * ```
 *
 * Memory, resident bytes per item after storing 1,000,000 items (pass
 * `--memcached` to measure Debian's memcached the same way, over a socket;
 * `--expose-gc` lets the script collect garbage first, for a settled figure):
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/store_bench.ts --memory [--memcached]
 * ```
 *
 * @module
 */

import { Store } from "../server/_store.ts";
import { ManualClock } from "../server/clock.ts";

const COUNT = 1_000_000;
const KEY_LENGTH = 16;
const VALUE_LENGTH = 100;

/** Writes the 16-byte key `key:%012d` for `i` into `out` at `at`. */
function writeKey(out: Uint8Array, at: number, i: number): void {
  out[at] = 107; // k
  out[at + 1] = 101; // e
  out[at + 2] = 121; // y
  out[at + 3] = 58; // :
  for (let j = KEY_LENGTH - 1; j >= 4; j--) {
    out[at + j] = 48 + (i % 10);
    i = Math.floor(i / 10);
  }
}

function makeKeys(count: number): Uint8Array[] {
  const all = new Uint8Array(count * KEY_LENGTH);
  const keys: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    writeKey(all, i * KEY_LENGTH, i);
    keys.push(all.subarray(i * KEY_LENGTH, (i + 1) * KEY_LENGTH));
  }
  return keys;
}

function makeValue(): Uint8Array {
  const value = new Uint8Array(VALUE_LENGTH);
  for (let i = 0; i < VALUE_LENGTH; i++) value[i] = 97 + (i % 26);
  return value;
}

/** A store big enough that nothing is evicted. */
function newStore(): Store {
  return new Store({ maxBytes: 1024 * 1024 * 1024, clock: new ManualClock() });
}

function rssBytes(): number {
  return Deno.memoryUsage().rss;
}

async function measureMemory(): Promise<void> {
  const value = makeValue();
  const key = new Uint8Array(KEY_LENGTH);
  // Warm up the code paths so the JIT's own memory is in the baseline.
  {
    const warm = newStore();
    for (let i = 0; i < 10_000; i++) {
      writeKey(key, 0, i);
      warm.set(key, 0, 0, value);
    }
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = rssBytes();
  const store = newStore();
  for (let i = 0; i < COUNT; i++) {
    writeKey(key, 0, i);
    store.set(key, 0, 0, value);
  }
  gc?.();
  const after = rssBytes();
  const s = store.stats();
  if (gc === undefined) {
    console.log("(without --v8-flags=--expose-gc, garbage from growing arrays is counted)");
  }
  console.log(
    `Store: ${COUNT} items (${KEY_LENGTH} B keys, ${VALUE_LENGTH} B values): ` +
      `RSS +${((after - before) / 2 ** 20).toFixed(1)} MiB = ` +
      `${((after - before) / COUNT).toFixed(1)} B/item ` +
      `(pages ${(s.totalMalloced / 2 ** 20).toFixed(0)} MiB, ` +
      `curr_items ${s.currItems}, hash ${(s.hashBytes / 2 ** 20).toFixed(0)} MiB)`,
  );
  // Keep the store alive until after the measurement.
  if (store.get(key) < 0) throw new Error("Cannot find the last key");

  if (Deno.args.includes("--memcached")) await measureMemcached(value);
}

/** The same items sent to Debian's memcached, its RSS read from /proc. */
async function measureMemcached(value: Uint8Array): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command("memcached", {
    args: ["-U", "0", "-l", "127.0.0.1", "-p", String(port), "-m", "1024", "-t", "1"].concat(
      Deno.uid() === 0 ? ["-u", "nobody"] : [],
    ),
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let conn: Deno.TcpConn | undefined;
    for (let i = 0; i < 200 && conn === undefined; i++) {
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    if (conn === undefined) throw new Error("Cannot connect to memcached");
    const rss = () => {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    };
    const before = rss();
    // noreply sets in batches, then one get to wait for them all.
    const header = new TextEncoder().encode(` 0 0 ${VALUE_LENGTH} noreply\r\n`);
    const batch = 1000;
    const record = 4 + KEY_LENGTH + header.length + VALUE_LENGTH + 2;
    const buf = new Uint8Array(batch * record);
    for (let i = 0; i < COUNT; i += batch) {
      let at = 0;
      for (let j = i; j < i + batch; j++) {
        buf.set([115, 101, 116, 32], at); // "set "
        writeKey(buf, at + 4, j);
        buf.set(header, at + 4 + KEY_LENGTH);
        buf.set(value, at + 4 + KEY_LENGTH + header.length);
        buf[at + record - 2] = 13;
        buf[at + record - 1] = 10;
        at += record;
      }
      for (let off = 0; off < at;) off += await conn.write(buf.subarray(off, at));
    }
    await conn.write(new TextEncoder().encode("get key:000000000000\r\n"));
    const reply = new Uint8Array(4096);
    let got = "";
    while (!got.endsWith("END\r\n")) {
      const n = await conn.read(reply);
      if (n === null) break;
      got += new TextDecoder().decode(reply.subarray(0, n));
    }
    const after = rss();
    console.log(
      `memcached: ${COUNT} items: RSS +${((after - before) / 2 ** 20).toFixed(1)} MiB = ` +
        `${((after - before) / COUNT).toFixed(1)} B/item`,
    );
    conn.close();
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

if (import.meta.main && Deno.args.includes("--memory")) {
  await measureMemory();
} else {
  const keys = makeKeys(COUNT);
  const value = makeValue();
  const other = makeValue().reverse();
  const filled = newStore();
  for (const key of keys) filled.set(key, 0, 0, value);

  Deno.bench({
    name: "Store: 1,000,000 sets of new keys",
    group: "set",
    baseline: true,
    n: 5,
    warmup: 1,
  }, () => {
    const store = newStore();
    for (let i = 0; i < COUNT; i++) store.set(keys[i], 0, 0, value);
  });

  let flip = false;
  Deno.bench({ name: "Store: 1,000,000 sets of existing keys", group: "set", n: 5 }, () => {
    // Alternate two values of the same size: every set rewrites its chunk in place.
    flip = !flip;
    const v = flip ? other : value;
    for (let i = 0; i < COUNT; i++) filled.set(keys[i], 0, 0, v);
  });

  Deno.bench({
    name: "Store: 1,000,000 gets (hits, LRU bump)",
    group: "get",
    baseline: true,
    n: 10,
  }, () => {
    for (let i = 0; i < COUNT; i++) {
      if (filled.get(keys[i]) < 0) throw new Error("Cannot find a key");
    }
  });

  // Random order defeats the caches, as a large working set does.
  const order = new Int32Array(COUNT);
  for (let i = 0; i < COUNT; i++) order[i] = i;
  let seed = 1;
  for (let i = COUNT - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  Deno.bench({ name: "Store: 1,000,000 gets in random order", group: "get", n: 10 }, () => {
    for (let i = 0; i < COUNT; i++) {
      if (filled.get(keys[order[i]]) < 0) throw new Error("Cannot find a key");
    }
  });

  Deno.bench(
    { name: "Store: 1,000,000 gets and copies of the value", group: "get", n: 10 },
    () => {
      const out = new Uint8Array(VALUE_LENGTH);
      for (let i = 0; i < COUNT; i++) out.set(filled.items.value(filled.get(keys[i])));
    },
  );

  // The alternative index the design names: a string per lookup into a Map.
  const latin1 = new TextDecoder("latin1");
  const index = new Map<string, number>();
  for (let i = 0; i < COUNT; i++) index.set(latin1.decode(keys[i]), i);
  Deno.bench({
    name: "Map<string, number>: 1,000,000 lookups (TextDecoder latin1 key)",
    group: "get",
    n: 10,
  }, () => {
    for (let i = 0; i < COUNT; i++) {
      if (index.get(latin1.decode(keys[i])) === undefined) throw new Error("Cannot find a key");
    }
  });
  Deno.bench({
    name: "Map<string, number>: 1,000,000 lookups (String.fromCharCode key)",
    group: "get",
    n: 10,
  }, () => {
    for (let i = 0; i < COUNT; i++) {
      const k = keys[i];
      let s = "";
      for (let j = 0; j < k.length; j++) s += String.fromCharCode(k[j]);
      if (index.get(s) === undefined) throw new Error("Cannot find a key");
    }
  });
}
