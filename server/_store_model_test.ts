import assert from "node:assert/strict";
import { ManualClock, relativeExptime } from "./clock.ts";
import { Store } from "./_store.ts";
import { bytes, latin1, memcachedSize } from "./_test_utils.ts";

Deno.test("Store agrees with a Map model over a seeded random sequence of operations", () => {
  const clock = new ManualClock({ started: 1_700_000_000 });
  const store = new Store({ clock, maxBytes: 256 * 1024 * 1024 });
  interface Entry {
    value: string;
    flags: number;
    exptime: number;
    cas: number;
  }
  const model = new Map<string, Entry>();
  let seed = 12345;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const live = (key: string): Entry | undefined => {
    const e = model.get(key);
    if (e !== undefined && e.exptime !== 0 && e.exptime <= clock.now()) {
      model.delete(key);
      return undefined;
    }
    return e;
  };
  const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`);
  const randomValue = (): string => {
    const kind = random();
    if (kind < 0.4) return String(Math.floor(random() * 1e6));
    if (kind < 0.45) return "18446744073709551615".slice(0, 1 + Math.floor(random() * 20));
    const length = Math.floor(random() * random() * 3000);
    let s = "";
    for (let i = 0; i < length; i++) s += String.fromCharCode(97 + Math.floor(random() * 26));
    return s;
  };
  const randomExptime = () => pick([0, 0, 0, 5, 30, -1, clock.unixTime() + 40]);
  let stored = 0;
  let maxCas = 0;
  const seen = new Map<string, number>();
  const tally = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
  const remember = (key: string) => {
    const slot = store.get(bytes(key));
    if (live(key) === undefined) {
      // Stored already expired (a negative or past exptime).
      assert.equal(slot, -1);
      return;
    }
    const e = model.get(key)!;
    e.cas = store.items.casUnique(slot);
    assert.ok(e.cas > maxCas, "cas uniques increase");
    maxCas = e.cas;
  };

  for (let op = 0; op < 30_000; op++) {
    const key = pick(keys);
    const k = bytes(key);
    const which = random();
    const label = `op ${op} on ${key}`;
    if (which < 0.2) {
      const value = randomValue();
      const flags = pick([0, 1, 4294967295]);
      const exptime = randomExptime();
      assert.equal(store.set(k, flags, exptime, bytes(value)), "STORED", label);
      model.set(key, { value, flags, exptime: relativeExptime(exptime, clock), cas: 0 });
      remember(key);
      stored++;
    } else if (which < 0.27) {
      const value = randomValue();
      const exptime = randomExptime();
      const present = live(key) !== undefined;
      assert.equal(
        store.add(k, 2, exptime, bytes(value)),
        present ? "NOT_STORED" : "STORED",
        label,
      );
      if (!present) {
        model.set(key, { value, flags: 2, exptime: relativeExptime(exptime, clock), cas: 0 });
        remember(key);
      }
    } else if (which < 0.32) {
      const value = randomValue();
      const present = live(key) !== undefined;
      assert.equal(store.replace(k, 3, 0, bytes(value)), present ? "STORED" : "NOT_STORED", label);
      if (present) {
        model.set(key, { value, flags: 3, exptime: 0, cas: 0 });
        remember(key);
      }
    } else if (which < 0.38) {
      const add = randomValue().slice(0, 50);
      const append = random() < 0.5;
      const e = live(key);
      const result = append ? store.append(k, bytes(add)) : store.prepend(k, bytes(add));
      assert.equal(result, e ? "STORED" : "NOT_STORED", label);
      if (e) {
        e.value = append ? e.value + add : add + e.value;
        remember(key);
      }
    } else if (which < 0.44) {
      const e = live(key);
      const right = e !== undefined && random() < 0.6;
      const unique = right ? BigInt(e!.cas) : BigInt(Math.floor(random() * (maxCas + 5)));
      const value = randomValue();
      const expected = e === undefined
        ? "NOT_FOUND"
        : BigInt(e.cas) === unique
        ? "STORED"
        : "EXISTS";
      assert.equal(store.cas(k, 6, 0, bytes(value), unique), expected, label);
      tally(`cas ${expected}`);
      if (expected === "STORED") {
        model.set(key, { value, flags: 6, exptime: 0, cas: 0 });
        remember(key);
      }
    } else if (which < 0.5) {
      const present = live(key) !== undefined;
      assert.equal(store.delete(k), present, label);
      model.delete(key);
    } else if (which < 0.58) {
      const e = live(key);
      const incr = random() < 0.5;
      const delta = pick([0n, 1n, 7n, 1000n, 18446744073709551615n]);
      const result = incr ? store.incr(k, delta) : store.decr(k, delta);
      if (e === undefined) {
        assert.equal(result, "NOT_FOUND", label);
        tally("delta NOT_FOUND");
        continue;
      }
      // strtoull: whitespace, digits, then whitespace or the end ("0   abc" is 0).
      const digitsRun = /^[ \t\n\v\f\r]*\+?(\d+)(?:[ \t\n\v\f\r]|$)/.exec(e.value);
      if (digitsRun === null || BigInt(digitsRun[1]) >= 1n << 64n) {
        assert.equal(result, "NON_NUMERIC", `${label}: ${JSON.stringify(e.value)}`);
        tally("delta NON_NUMERIC");
        continue;
      }
      const current = BigInt(digitsRun[1]);
      const next = incr ? (current + delta) % (1n << 64n) : delta > current ? 0n : current - delta;
      assert.equal(result, next, label);
      tally(next.toString().length < e.value.length ? "delta padded" : "delta");
      const digits = next.toString();
      e.value = digits.length <= e.value.length ? digits.padEnd(e.value.length, " ") : digits;
      remember(key);
    } else if (which < 0.63) {
      const e = live(key);
      const exptime = randomExptime();
      assert.equal(store.touch(k, exptime) >= 0, e !== undefined, label);
      if (e) e.exptime = relativeExptime(exptime, clock);
    } else if (which < 0.995) {
      const e = live(key);
      const slot = store.get(k);
      assert.equal(slot >= 0, e !== undefined, label);
      tally(e ? "get hit" : "get miss");
      if (e) {
        assert.equal(latin1(store.items.value(slot)), e.value, label);
        assert.equal(store.items.flags(slot), e.flags, label);
        assert.equal(store.items.casUnique(slot), e.cas, label);
      }
    } else if (which < 0.998) {
      clock.advance(pick([1, 3, 10, 41]));
      store.sweep(20);
    } else {
      store.flushAll();
      model.clear();
    }
  }
  assert.ok(stored > 5000);
  for (
    const what of [
      "cas STORED",
      "cas EXISTS",
      "cas NOT_FOUND",
      "delta",
      "delta padded",
      "delta NON_NUMERIC",
      "delta NOT_FOUND",
      "get hit",
      "get miss",
    ]
  ) {
    assert.ok((seen.get(what) ?? 0) >= 20, `${what}: ${seen.get(what)}`);
  }
  assert.ok(store.stats().getExpired > 100);
  store.sweep(1_000_000);
  for (const key of keys) live(key);
  const s = store.stats();
  assert.equal(s.currItems, model.size);
  let expectedBytes = 0;
  for (const [key, e] of model) expectedBytes += memcachedSize(key, e.flags, e.value.length);
  assert.equal(s.bytes, expectedBytes);
  assert.equal(s.evictions, 0);
});

Deno.test("Store never returns a stale or corrupt value under eviction pressure", () => {
  const maxBytes = 8 * 1024;
  const clock = new ManualClock();
  const store = new Store({ clock, pageSize: 1024, maxBytes, maxItemSize: 1024 });
  const model = new Map<string, string>();
  let seed = 99;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const letters = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(random() * 26));
    return s;
  };
  for (let op = 0; op < 40_000; op++) {
    const key = `k${Math.floor(random() * 200)}`;
    const k = bytes(key);
    const which = random();
    const label = `op ${op} on ${key}`;
    if (which < 0.3) {
      const value = random() < 0.3 ? String(Math.floor(random() * 1000)) : letters(
        Math.floor(random() * random() * 700),
      );
      assert.equal(store.set(k, 0, 0, bytes(value)), "STORED", label);
      model.set(key, value);
    } else if (which < 0.45) {
      const add = letters(Math.floor(random() * 100));
      const append = random() < 0.5;
      const result = append ? store.append(k, bytes(add)) : store.prepend(k, bytes(add));
      const old = model.get(key);
      if (result === "STORED") {
        assert.ok(old !== undefined, label);
        model.set(key, append ? old + add : add + old);
      } else {
        // Missing, evicted, grown past maxItemSize, or (in so small a store) no page to move.
        assert.ok(result === "NOT_STORED" || result === "NO_MEMORY", `${label}: ${result}`);
        if (result === "NOT_STORED" && (old ?? "").length + add.length + key.length + 61 <= 1024) {
          model.delete(key);
        }
      }
    } else if (which < 0.55) {
      const result = store.incr(k, BigInt(Math.floor(random() * 100_000)));
      const old = model.get(key);
      if (typeof result === "bigint") {
        assert.ok(old !== undefined && /^\d+ *$/.test(old), label);
        const digits = result.toString();
        model.set(key, digits.length <= old.length ? digits.padEnd(old.length, " ") : digits);
      } else if (result === "NON_NUMERIC") {
        assert.ok(old !== undefined && !/^\d+ *$/.test(old), label);
      } else {
        assert.equal(result, "NOT_FOUND", label);
        model.delete(key);
      }
    } else if (which < 0.6) {
      const had = model.delete(key);
      if (store.delete(k)) assert.ok(had, label);
    } else {
      const slot = store.get(k);
      if (slot < 0) {
        model.delete(key);
      } else {
        assert.equal(latin1(store.items.value(slot)), model.get(key), label);
      }
    }
    assert.ok(store.stats().totalMalloced <= maxBytes);
  }
  const s = store.stats();
  assert.ok(s.evictions > 1000 && s.slabsMoved > 10, JSON.stringify(s));
  let items = 0;
  for (const key of model.keys()) {
    const slot = store.get(bytes(key));
    if (slot >= 0) {
      items++;
      assert.equal(latin1(store.items.value(slot)), model.get(key), key);
    }
  }
  assert.equal(items, store.stats().currItems);
  const classes = store.slabClasses();
  assert.equal(classes.reduce((n, c) => n + c.items, 0), store.stats().currItems);
  assert.equal(classes.reduce((n, c) => n + c.usedChunks, 0), store.stats().currItems);
  assert.equal(classes.reduce((n, c) => n + c.requestedBytes, 0), store.stats().bytes);
});

// ------------------------------------------------------------ against memcached

/** A minimal text-protocol connection: send bytes, read until a terminator. */
