import assert from "node:assert/strict";
import { ManualClock, relativeExptime } from "./clock.ts";
import { PREFETCH_BATCH } from "./_hash_index.ts";
import { Store } from "./_store.ts";
import type { StoreOptions } from "./_types.ts";
import { hasMemcached, startMemcached } from "../tests/_peers.ts";

const encoder = new TextEncoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);
function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

function setup(options: StoreOptions = {}): { store: Store; clock: ManualClock } {
  const clock = new ManualClock({ started: 1_700_000_000 });
  return { store: new Store({ clock, ...options }), clock };
}

/** The value under `key` as a string, or undefined on a miss. */
function read(store: Store, key: string): string | undefined {
  const slot = store.get(bytes(key));
  return slot < 0 ? undefined : latin1(store.items.value(slot));
}

/** memcached's item size for `stats bytes`. */
function memcachedSize(key: string, flags: number, value: number, cas = true): number {
  return 48 + (cas ? 8 : 0) + key.length + 1 + (flags !== 0 ? 4 : 0) + value + 2;
}

/** A store of 1 KiB pages: class 1 chunks are 96 bytes, ten to a page. */
function smallStore(pages: number, options: StoreOptions = {}) {
  return setup({ pageSize: 1024, maxBytes: pages * 1024, maxItemSize: 1024, ...options });
}

Deno.test("Store set then get returns the key, value and flags", () => {
  const { store } = setup();
  assert.equal(store.set(bytes("greeting"), 42, 0, bytes("hello")), "STORED");
  const slot = store.get(bytes("greeting"));
  assert.ok(slot >= 0);
  assert.equal(latin1(store.items.value(slot)), "hello");
  assert.equal(latin1(store.items.key(slot)), "greeting");
  assert.equal(store.items.flags(slot), 42);
  assert.equal(store.items.valueLength(slot), 5);
  assert.equal(store.items.key(slot).length, 8);
  assert.equal(store.get(bytes("missing")), -1);
});

Deno.test("Store keeps flags as an unsigned 32-bit integer", () => {
  const { store } = setup();
  store.set(bytes("k"), 4294967295, 0, bytes("v"));
  assert.equal(store.items.flags(store.get(bytes("k"))), 4294967295);
});

Deno.test("Store copies the key and value it is given", () => {
  const { store } = setup();
  const key = bytes("abc");
  const value = bytes("xyz");
  store.set(key, 0, 0, value);
  key[0] = 0x7a;
  value[0] = 0x7a;
  assert.equal(read(store, "abc"), "xyz");
  assert.equal(store.get(key), -1);
});

Deno.test("Store keys are bytes: any byte, 1 to 250 of them", () => {
  const { store } = setup();
  const binary = new Uint8Array([0, 1, 0x10, 0xff, 0x80]);
  assert.equal(store.set(binary, 0, 0, bytes("b")), "STORED");
  assert.deepEqual([...store.items.key(store.get(binary))], [...binary]);
  assert.equal(store.set(new Uint8Array(250).fill(0x61), 0, 0, bytes("x")), "STORED");
  assert.throws(() => store.set(new Uint8Array(251), 0, 0, bytes("x")), RangeError);
  assert.throws(() => store.get(new Uint8Array(0)), RangeError);
});

Deno.test("Store stores an empty value", () => {
  const { store } = setup();
  assert.equal(store.set(bytes("e"), 0, 0, new Uint8Array(0)), "STORED");
  assert.equal(read(store, "e"), "");
});

Deno.test("Store set replaces a value of another size class", () => {
  const { store } = setup();
  store.set(bytes("k"), 1, 0, bytes("small"));
  const small = store.items.classId(store.get(bytes("k")));
  store.set(bytes("k"), 2, 0, bytes("y".repeat(5000)));
  const slot = store.get(bytes("k"));
  assert.ok(store.items.classId(slot) > small);
  assert.equal(latin1(store.items.value(slot)), "y".repeat(5000));
  assert.equal(store.items.flags(slot), 2);
  store.set(bytes("k"), 0, 0, bytes("tiny"));
  assert.equal(read(store, "k"), "tiny");
  assert.equal(store.stats().currItems, 1);
  assert.equal(store.stats().bytes, memcachedSize("k", 0, 4));
  const classes = store.slabClasses();
  assert.equal(classes.reduce((n, c) => n + c.items, 0), 1);
  assert.equal(classes.reduce((n, c) => n + c.usedChunks, 0), 1);
});

Deno.test("Store add stores only a missing key", () => {
  const { store } = setup();
  assert.equal(store.add(bytes("k"), 0, 0, bytes("first")), "STORED");
  assert.equal(store.add(bytes("k"), 0, 0, bytes("second")), "NOT_STORED");
  assert.equal(read(store, "k"), "first");
});

Deno.test("Store replace stores only a present key", () => {
  const { store } = setup();
  assert.equal(store.replace(bytes("k"), 0, 0, bytes("v")), "NOT_STORED");
  assert.equal(read(store, "k"), undefined);
  store.set(bytes("k"), 0, 0, bytes("old"));
  assert.equal(store.replace(bytes("k"), 3, 0, bytes("new")), "STORED");
  assert.equal(read(store, "k"), "new");
  assert.equal(store.items.flags(store.get(bytes("k"))), 3);
});

Deno.test("Store append and prepend keep the item's flags and exptime", () => {
  const { store, clock } = setup();
  store.set(bytes("k"), 5, 100, bytes("1"));
  assert.equal(store.append(bytes("k"), bytes("2")), "STORED");
  assert.equal(store.prepend(bytes("k"), bytes("0")), "STORED");
  const slot = store.get(bytes("k"));
  assert.equal(latin1(store.items.value(slot)), "012");
  assert.equal(store.items.flags(slot), 5);
  assert.equal(store.items.exptime(slot) - clock.now(), 100);
  // Growing into larger classes keeps them too.
  assert.equal(store.append(bytes("k"), bytes("a".repeat(3000))), "STORED");
  assert.equal(store.prepend(bytes("k"), bytes("b".repeat(3000))), "STORED");
  const big = store.get(bytes("k"));
  assert.equal(latin1(store.items.value(big)), "b".repeat(3000) + "012" + "a".repeat(3000));
  assert.equal(store.items.flags(big), 5);
  clock.advance(100);
  assert.equal(read(store, "k"), undefined);
});

Deno.test("Store append and prepend of a missing key are NOT_STORED", () => {
  const { store } = setup();
  assert.equal(store.append(bytes("k"), bytes("x")), "NOT_STORED");
  assert.equal(store.prepend(bytes("k"), bytes("x")), "NOT_STORED");
  assert.equal(store.stats().currItems, 0);
});

Deno.test("Store append past maxItemSize is NOT_STORED and keeps the value", () => {
  const { store } = setup({ maxBytes: 4 * 1024 * 1024 });
  // As memcached 1.6.18 -I 1m: a 1,048,000-byte value, then 1,000 more bytes.
  store.set(bytes("big3"), 0, 0, new Uint8Array(1_048_000));
  assert.equal(store.append(bytes("big3"), new Uint8Array(1000)), "NOT_STORED");
  assert.equal(store.items.valueLength(store.get(bytes("big3"))), 1_048_000);
});

Deno.test("Store prepend of the item's own bytes is safe", () => {
  const { store } = setup();
  store.set(bytes("k"), 0, 0, bytes("abc"));
  assert.equal(store.prepend(bytes("k"), store.items.value(store.get(bytes("k")))), "STORED");
  assert.equal(read(store, "k"), "abcabc");
});

Deno.test("Store gives every change a new, increasing cas unique", () => {
  const { store } = setup();
  const seen: number[] = [];
  const cas = () => store.items.casUnique(store.get(bytes("k")));
  store.set(bytes("k"), 0, 0, bytes("1"));
  seen.push(cas());
  store.set(bytes("k"), 0, 0, bytes("2"));
  seen.push(cas());
  store.append(bytes("k"), bytes("0"));
  seen.push(cas());
  store.incr(bytes("k"), 1n);
  seen.push(cas());
  store.decr(bytes("k"), 1n);
  seen.push(cas());
  store.touch(bytes("k"), 10);
  seen.push(cas()); // touch is not a change
  store.set(bytes("other"), 0, 0, bytes("x"));
  store.replace(bytes("k"), 0, 0, bytes("3"));
  seen.push(cas());
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 5, 7]);
});

Deno.test("Store cas stores on a matching unique, EXISTS otherwise, NOT_FOUND when missing", () => {
  const { store } = setup();
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("v"), 1n), "NOT_FOUND");
  store.set(bytes("k"), 0, 0, bytes("v1"));
  const unique = store.items.casUnique(store.get(bytes("k")));
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("v2"), BigInt(unique) + 1n), "EXISTS");
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("v2"), 0n), "EXISTS");
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("v2"), (1n << 64n) - 1n), "EXISTS");
  assert.equal(store.cas(bytes("k"), 9, 0, bytes("v2"), BigInt(unique)), "STORED");
  assert.equal(read(store, "k"), "v2");
  assert.equal(store.items.flags(store.get(bytes("k"))), 9);
  // The unique changed with the store, so the old one no longer matches.
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("v3"), unique), "EXISTS");
  const s = store.stats();
  assert.deepEqual([s.casHits, s.casBadval, s.casMisses], [1, 4, 1]);
});

Deno.test("Store without cas reports 0 and every cas is EXISTS or NOT_FOUND", () => {
  const { store } = setup({ useCas: false });
  store.set(bytes("k"), 0, 0, bytes("v"));
  assert.equal(store.items.casUnique(store.get(bytes("k"))), 0);
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("x"), 0n), "EXISTS");
  assert.equal(store.cas(bytes("k"), 0, 0, bytes("x"), 1n), "EXISTS");
  assert.equal(store.cas(bytes("zz"), 0, 0, bytes("x"), 1n), "NOT_FOUND");
  store.incr(bytes("k"), 1n);
  assert.equal(store.items.casUnique(store.get(bytes("k"))), 0);
});

Deno.test("Store delete removes an item once", () => {
  const { store } = setup();
  store.set(bytes("k"), 0, 0, bytes("v"));
  assert.equal(store.delete(bytes("k")), true);
  assert.equal(store.delete(bytes("k")), false);
  assert.equal(read(store, "k"), undefined);
  assert.equal(store.stats().currItems, 0);
  assert.equal(store.stats().bytes, 0);
});

Deno.test("Store incr wraps at 2^64", () => {
  const { store } = setup();
  store.set(bytes("n"), 0, 0, bytes("18446744073709551615"));
  assert.equal(store.incr(bytes("n"), 1n), 0n);
  // As memcached: "0" written over 20 bytes, padded with spaces.
  assert.equal(read(store, "n"), "0" + " ".repeat(19));
  store.set(bytes("n"), 0, 0, bytes("18446744073709551610"));
  assert.equal(store.incr(bytes("n"), 18446744073709551615n), 18446744073709551609n);
});

Deno.test("Store decr stops at 0", () => {
  const { store } = setup();
  store.set(bytes("n"), 0, 0, bytes("5"));
  assert.equal(store.decr(bytes("n"), 10n), 0n);
  assert.equal(read(store, "n"), "0");
  assert.equal(store.decr(bytes("n"), 0n), 0n);
});

Deno.test("Store decr writes a shorter number in place padded with spaces", () => {
  const { store } = setup();
  store.set(bytes("a"), 5, 0, bytes("10"));
  assert.equal(store.decr(bytes("a"), 1n), 9n);
  assert.equal(read(store, "a"), "9 ");
  // Same length fits in place; a longer number makes a new item of its exact length.
  assert.equal(store.incr(bytes("a"), 1n), 10n);
  assert.equal(read(store, "a"), "10");
  assert.equal(store.incr(bytes("a"), 100n), 110n);
  assert.equal(read(store, "a"), "110");
  assert.equal(store.items.flags(store.get(bytes("a"))), 5);
});

Deno.test("Store incr keeps flags and exptime when the number grows", () => {
  const { store, clock } = setup();
  store.set(bytes("f"), 42, 1000, bytes("99"));
  assert.equal(store.incr(bytes("f"), 1n), 100n);
  const slot = store.get(bytes("f"));
  assert.equal(latin1(store.items.value(slot)), "100");
  assert.equal(store.items.flags(slot), 42);
  assert.equal(store.items.exptime(slot) - clock.now(), 1000);
  clock.advance(1000);
  assert.equal(read(store, "f"), undefined);
});

Deno.test("Store incr parses values as memcached's strtoull does", () => {
  const { store } = setup();
  // Checked against memcached 1.6.18 over a socket.
  const cases: [string, bigint | "NON_NUMERIC"][] = [
    ["abc", "NON_NUMERIC"],
    ["12ab", "NON_NUMERIC"],
    ["", "NON_NUMERIC"],
    [" ", "NON_NUMERIC"],
    ["-1", "NON_NUMERIC"],
    ["0x1", "NON_NUMERIC"],
    ["18446744073709551616", "NON_NUMERIC"],
    ["12 a", 13n],
    [" 12", 13n],
    ["\t12", 13n],
    ["12\t", 13n],
    ["+5", 6n],
    ["-0", 1n],
    ["1\r\n2", 2n],
    ["007", 8n],
  ];
  for (const [value, expected] of cases) {
    store.set(bytes("d"), 0, 0, bytes(value));
    assert.equal(store.incr(bytes("d"), 1n), expected, JSON.stringify(value));
  }
  // strtoull negates: "-18446744073709551615" is 1.
  store.set(bytes("d"), 0, 0, bytes("-18446744073709551615"));
  assert.equal(store.incr(bytes("d"), 0n), 1n);
});

Deno.test("Store incr and decr of a missing key are NOT_FOUND", () => {
  const { store } = setup();
  assert.equal(store.incr(bytes("n"), 1n), "NOT_FOUND");
  assert.equal(store.decr(bytes("n"), 1n), "NOT_FOUND");
  const s = store.stats();
  assert.deepEqual([s.incrMisses, s.decrMisses], [1, 1]);
});

Deno.test("Store incr rejects a delta outside 0 to 2^64 - 1", () => {
  const { store } = setup();
  store.set(bytes("n"), 0, 0, bytes("1"));
  assert.throws(() => store.incr(bytes("n"), -1n), RangeError);
  assert.throws(() => store.incr(bytes("n"), 1n << 64n), RangeError);
});

Deno.test("Store expires an item at its relative exptime", () => {
  const { store, clock } = setup();
  store.set(bytes("k"), 0, 10, bytes("v"));
  clock.advance(9);
  assert.equal(read(store, "k"), "v");
  assert.equal(store.items.exptime(store.get(bytes("k"))) - clock.now(), 1);
  clock.advance(1);
  assert.equal(read(store, "k"), undefined);
  const s = store.stats();
  assert.equal(s.getExpired, 1);
  assert.equal(s.currItems, 0);
});

Deno.test("Store expires an item at its absolute Unix exptime", () => {
  const { store, clock } = setup();
  const at = clock.unixTime() + 3_000_000; // more than 30 days: absolute
  store.set(bytes("k"), 0, at, bytes("v"));
  clock.advance(2_999_999);
  assert.equal(read(store, "k"), "v");
  clock.advance(1);
  assert.equal(read(store, "k"), undefined);
  // A Unix time already past expires at once.
  store.set(bytes("p"), 0, clock.unixTime() - 10, bytes("v"));
  assert.equal(read(store, "p"), undefined);
});

Deno.test("Store treats a negative exptime as already expired", () => {
  const { store } = setup();
  assert.equal(store.set(bytes("k"), 0, -1, bytes("v")), "STORED");
  assert.equal(read(store, "k"), undefined);
});

Deno.test("Store touch sets a new exptime and misses like get", () => {
  const { store, clock } = setup();
  store.set(bytes("k"), 0, 10, bytes("v"));
  assert.ok(store.touch(bytes("k"), 100) >= 0);
  clock.advance(50);
  assert.equal(read(store, "k"), "v");
  assert.ok(store.touch(bytes("k"), 0) >= 0);
  clock.advance(1_000_000);
  assert.equal(read(store, "k"), "v");
  assert.equal(store.touch(bytes("missing"), 10), -1);
  const slot = store.touch(bytes("k"), -1);
  assert.ok(slot >= 0 && store.items.fetched(slot));
  assert.equal(read(store, "k"), undefined);
  const s = store.stats();
  assert.deepEqual([s.touchHits, s.touchMisses], [3, 1]);
});

Deno.test("Store counts get_expired on every lookup, as memcached does", () => {
  const { store } = setup();
  // memcached 1.6.18: set, delete, touch and incr of an expired key all count.
  store.set(bytes("c"), 0, -1, bytes("y"));
  store.set(bytes("c"), 0, 0, bytes("z"));
  store.set(bytes("c"), 0, -1, bytes("y"));
  store.delete(bytes("c"));
  store.set(bytes("c"), 0, -1, bytes("y"));
  store.touch(bytes("c"), 10);
  store.set(bytes("c"), 0, -1, bytes("y"));
  store.incr(bytes("c"), 1n);
  assert.equal(store.stats().getExpired, 4);
  assert.equal(store.stats().currItems, 0);
});

Deno.test("Store flushAll invalidates items stored before it but not after", () => {
  const { store } = setup();
  store.set(bytes("f1"), 0, 0, bytes("x"));
  store.flushAll();
  // The same second: memcached tells the two apart by cas unique.
  store.set(bytes("f2"), 0, 0, bytes("x"));
  assert.equal(read(store, "f1"), undefined);
  assert.equal(read(store, "f2"), "x");
  assert.equal(store.stats().getFlushed, 1);
});

Deno.test("Store flushAll without cas also invalidates the rest of the second", () => {
  const { store, clock } = setup({ useCas: false });
  store.set(bytes("f1"), 0, 0, bytes("x"));
  store.flushAll();
  store.set(bytes("f2"), 0, 0, bytes("x"));
  // memcached -C: oldest_live is the current second itself.
  assert.equal(read(store, "f1"), undefined);
  assert.equal(read(store, "f2"), undefined);
  clock.advance(1);
  store.set(bytes("f3"), 0, 0, bytes("x"));
  assert.equal(read(store, "f3"), "x");
});

Deno.test("Store flushAll with a delay takes effect one second early, as memcached", () => {
  const { store, clock } = setup();
  store.set(bytes("old"), 0, 0, bytes("x"));
  store.flushAll(10);
  assert.equal(store.stats().oldestLive, clock.now() + 9);
  clock.advance(8);
  store.set(bytes("later"), 0, 0, bytes("x"));
  assert.equal(read(store, "old"), "x");
  assert.equal(read(store, "later"), "x");
  clock.advance(1);
  // oldest_live = realtime(10) - 1: from then, anything accessed at or before it is gone,
  // even an item stored in that very second.
  store.set(bytes("edge"), 0, 0, bytes("x"));
  assert.equal(read(store, "old"), undefined);
  assert.equal(read(store, "later"), undefined);
  assert.equal(read(store, "edge"), undefined);
  clock.advance(1);
  store.set(bytes("new"), 0, 0, bytes("x"));
  assert.equal(read(store, "new"), "x");
});

Deno.test("Store evicts the least recently used item", () => {
  const { store } = smallStore(2);
  // 20 chunks of 96 bytes in two pages.
  for (let i = 0; i < 20; i++) assert.equal(store.set(bytes(`k${i}`), 0, 0, bytes("v")), "STORED");
  assert.ok(store.get(bytes("k0")) >= 0); // k0 is now the most recent; k1 the least
  assert.equal(store.set(bytes("k20"), 0, 0, bytes("v")), "STORED");
  assert.equal(read(store, "k1"), undefined);
  assert.equal(read(store, "k0"), "v");
  assert.equal(store.set(bytes("k21"), 0, 0, bytes("v")), "STORED");
  assert.equal(read(store, "k2"), undefined);
  for (let i = 3; i <= 21; i++) assert.equal(read(store, `k${i}`), "v", `k${i}`);
  const s = store.stats();
  assert.equal(s.evictions, 2);
  assert.equal(s.evictedUnfetched, 2);
  assert.equal(s.totalMalloced, 2048);
});

Deno.test("Store spares a used item once at the tail, and still evicts when every item was used", () => {
  const { store } = smallStore(2);
  // 20 chunks of 96 bytes in two pages; k5 is read, so the tail passes it by once.
  for (let i = 0; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  assert.ok(store.get(bytes("k5")) >= 0);
  for (let i = 20; i < 26; i++) assert.equal(store.set(bytes(`k${i}`), 0, 0, bytes("v")), "STORED");
  for (const gone of ["k0", "k1", "k2", "k3", "k4", "k6"]) {
    assert.equal(read(store, gone), undefined);
  }
  assert.equal(read(store, "k5"), "v");
  // Now every item is read: the next store moves them all to the head once, then evicts the
  // oldest of them rather than failing.
  const live = [...Array.from({ length: 13 }, (_, i) => `k${i + 7}`), "k5", ...["k20", "k21"]];
  for (let i = 22; i < 26; i++) live.push(`k${i}`);
  for (const key of live) assert.ok(store.get(bytes(key)) >= 0, key);
  assert.equal(store.set(bytes("k26"), 0, 0, bytes("v")), "STORED");
  assert.equal(live.filter((key) => read(store, key) === undefined).length, 1);
  assert.equal(store.stats().evictions, 7);
});

Deno.test("Store add of a present key counts as a use for the LRU", () => {
  const { store } = smallStore(2);
  for (let i = 0; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  assert.equal(store.add(bytes("k0"), 0, 0, bytes("w")), "NOT_STORED");
  store.set(bytes("k20"), 0, 0, bytes("v"));
  assert.equal(read(store, "k0"), "v");
  assert.equal(read(store, "k1"), undefined);
});

Deno.test("Store reclaims an expired tail item before evicting a live one", () => {
  const { store, clock } = smallStore(2);
  store.set(bytes("short"), 0, 5, bytes("v"));
  for (let i = 1; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  clock.advance(5);
  assert.equal(store.set(bytes("k20"), 0, 0, bytes("v")), "STORED");
  const s = store.stats();
  assert.equal(s.reclaimed, 1);
  assert.equal(s.expiredUnfetched, 1);
  assert.equal(s.evictions, 0);
  for (let i = 1; i <= 20; i++) assert.equal(read(store, `k${i}`), "v");
});

Deno.test("Store without evictions answers NO_MEMORY when full", () => {
  const { store, clock } = smallStore(2, { evict: false });
  store.set(bytes("short"), 0, 5, bytes("v"));
  for (let i = 1; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  assert.equal(store.set(bytes("k20"), 0, 0, bytes("v")), "NO_MEMORY");
  assert.equal(store.add(bytes("k20"), 0, 0, bytes("v")), "NO_MEMORY");
  // Expired items are still reclaimed.
  clock.advance(5);
  assert.equal(store.set(bytes("k20"), 0, 0, bytes("v")), "STORED");
  assert.equal(store.set(bytes("k21"), 0, 0, bytes("v")), "NO_MEMORY");
  // A value that fits its chunk is rewritten in place, with no memory needed.
  assert.equal(store.set(bytes("k1"), 0, 0, bytes("w")), "STORED");
  const s = store.stats();
  assert.equal(s.evictions, 0);
  assert.equal(s.currItems, 20);
  assert.ok(store.slabClasses()[0].outOfMemory >= 3);
});

Deno.test("Store set that fails for memory deletes the old value", () => {
  const { store } = smallStore(2, { evict: false });
  for (let i = 0; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  // A bigger value needs a chunk of another class, and no page is left.
  assert.equal(store.set(bytes("k0"), 0, 0, bytes("v".repeat(200))), "NO_MEMORY");
  assert.equal(read(store, "k0"), undefined);
  // replace keeps it.
  assert.equal(store.replace(bytes("k1"), 0, 0, bytes("v".repeat(200))), "NO_MEMORY");
  assert.equal(read(store, "k1"), "v");
});

Deno.test("Store rejects a value one byte over maxItemSize as TOO_LARGE", () => {
  // The largest values memcached 1.6.18 -I 1m stores, found over a socket.
  const limits: [StoreOptions, string, number, number][] = [
    [{}, "k", 0, 1048516],
    [{}, "k", 1, 1048512],
    [{}, "kkkkkkkkkk", 0, 1048507],
    [{ useCas: false }, "k", 0, 1048524],
    [{ useCas: false }, "k", 1, 1048520],
    [{ useCas: false }, "kkkkkkkkkk", 0, 1048515],
  ];
  for (const [options, key, flags, largest] of limits) {
    const { store } = setup({ maxBytes: 4 * 1024 * 1024, ...options });
    const label = `${JSON.stringify(options)} ${key} ${flags}`;
    assert.equal(store.set(bytes(key), flags, 0, new Uint8Array(largest)), "STORED", label);
    assert.equal(store.items.valueLength(store.get(bytes(key))), largest);
    assert.equal(store.set(bytes(key), flags, 0, new Uint8Array(largest + 1)), "TOO_LARGE", label);
  }
});

Deno.test("Store set TOO_LARGE deletes the old value; add, replace and cas keep it", () => {
  const { store } = setup({ maxBytes: 4 * 1024 * 1024 });
  const huge = new Uint8Array(2_000_000);
  store.set(bytes("big"), 0, 0, bytes("q"));
  assert.equal(store.set(bytes("big"), 0, 0, huge), "TOO_LARGE");
  assert.equal(read(store, "big"), undefined);
  store.set(bytes("big2"), 0, 0, bytes("q"));
  const unique = store.items.casUnique(store.get(bytes("big2")));
  assert.equal(store.add(bytes("big2"), 0, 0, huge), "TOO_LARGE");
  assert.equal(store.replace(bytes("big2"), 0, 0, huge), "TOO_LARGE");
  assert.equal(store.cas(bytes("big2"), 0, 0, huge, unique), "TOO_LARGE");
  assert.equal(store.append(bytes("big2"), huge), "TOO_LARGE");
  assert.equal(read(store, "big2"), "q");
});

Deno.test("Store sweep reclaims expired items without reads", () => {
  const { store, clock } = setup();
  for (let i = 0; i < 100; i++) store.set(bytes(`t${i}`), 0, 10, bytes("x".repeat(i)));
  for (let i = 0; i < 100; i++) store.set(bytes(`p${i}`), 0, 0, bytes("y"));
  const before = store.stats();
  assert.equal(before.currItems, 200);
  clock.advance(10);
  assert.equal(store.sweep(10_000), 100);
  const after = store.stats();
  assert.equal(after.currItems, 100);
  assert.equal(after.bytes, 100 * memcachedSize("p00", 0, 1) - 10 * 1);
  assert.equal(after.getExpired, 0);
  assert.equal(after.reclaimed, 100);
  assert.equal(after.crawlerReclaimed, 100);
  assert.equal(after.expiredUnfetched, 100);
  const used = store.slabClasses().reduce((n, c) => n + c.usedChunks, 0);
  assert.equal(used, 100);
});

Deno.test("Store sweep looks at no more than maxItems per call and resumes", () => {
  const { store, clock } = setup();
  for (let i = 0; i < 50; i++) store.set(bytes(`k${i}`), 0, i % 2 === 0 ? 5 : 0, bytes("v"));
  clock.advance(5);
  let total = 0;
  let calls = 0;
  while (store.stats().currItems > 25) {
    const n = store.sweep(10);
    assert.ok(n <= 10);
    total += n;
    calls++;
    assert.ok(calls < 20);
  }
  assert.equal(total, 25);
  assert.equal(store.sweep(1000), 0);
});

Deno.test("Store sweep reclaims flushed items", () => {
  const { store } = setup();
  for (let i = 0; i < 30; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  store.flushAll();
  assert.equal(store.sweep(1000), 30);
  assert.equal(store.stats().currItems, 0);
  assert.equal(store.stats().bytes, 0);
});

Deno.test("Store never holds more than maxBytes of pages while storing far more", () => {
  const maxBytes = 16 * 1024;
  const { store } = smallStore(16);
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let written = 0;
  const latest = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const key = `key${Math.floor(random() * 5000)}`;
    const length = Math.floor(random() * random() * 900);
    const value = new Uint8Array(length).fill(i & 0xff);
    const result = store.set(bytes(key), 0, 0, value);
    assert.equal(result, "STORED", `${key} ${length}`);
    latest.set(key, i);
    written += length;
    assert.ok(store.stats().totalMalloced <= maxBytes);
  }
  assert.ok(written > 100 * maxBytes);
  const s = store.stats();
  assert.ok(s.evictions > 0 && s.slabsMoved > 0, JSON.stringify(s));
  // Whatever survived is the latest value written under its key.
  let found = 0;
  for (const [key, i] of latest) {
    const slot = store.get(bytes(key));
    if (slot < 0) continue;
    found++;
    assert.ok(store.items.value(slot).every((b) => b === (i & 0xff)), key);
  }
  assert.equal(found, s.currItems);
  const classes = store.slabClasses();
  assert.equal(
    classes.reduce((n, c) => n + c.totalPages * c.pageSize, 0),
    store.stats().totalMalloced,
  );
  assert.equal(classes.reduce((n, c) => n + c.items, 0), s.currItems);
  assert.equal(classes.reduce((n, c) => n + c.requestedBytes, 0), s.bytes);
});

Deno.test("Store moves a page to a class that has none when memory is full", () => {
  const { store } = smallStore(2);
  for (let i = 0; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  // 160 bytes needs class 4 (192), which has no page.
  assert.equal(store.set(bytes("big"), 0, 0, bytes("b".repeat(160))), "STORED");
  const s = store.stats();
  assert.equal(s.slabsMoved, 1);
  assert.equal(s.slabReassignEvictionsNomem, 10);
  assert.equal(s.currItems, 11);
  assert.equal(read(store, "big"), "b".repeat(160));
});

Deno.test("Store moving a page keeps items that fit elsewhere in their class", () => {
  const { store } = smallStore(2, { evict: false });
  for (let i = 0; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes(`v${i}`));
  assert.equal(store.set(bytes("big"), 0, 0, bytes("b".repeat(160))), "NO_MEMORY");
  for (const i of [0, 1, 2, 3, 4, 15, 16, 17, 18, 19]) store.delete(bytes(`k${i}`));
  assert.equal(store.set(bytes("big"), 0, 0, bytes("b".repeat(160))), "STORED");
  const s = store.stats();
  assert.equal(s.slabsMoved, 1);
  assert.equal(s.slabReassignRescues, 5);
  assert.equal(s.evictions, 0);
  for (let i = 5; i < 15; i++) assert.equal(read(store, `k${i}`), `v${i}`);
});

Deno.test("Store takes an empty page from another class before evicting", () => {
  const { store } = smallStore(2);
  for (let i = 0; i < 20; i++) store.set(bytes(`k${i}`), 0, 0, bytes("v"));
  for (let i = 0; i < 10; i++) store.delete(bytes(`k${i}`));
  assert.equal(store.set(bytes("big"), 0, 0, bytes("b".repeat(160))), "STORED");
  const s = store.stats();
  assert.equal(s.slabsMoved, 1);
  assert.equal(s.evictions, 0);
  for (let i = 10; i < 20; i++) assert.equal(read(store, `k${i}`), "v");
});

Deno.test("Store grows its hash table and finds every key", () => {
  const { store } = setup({ hashPower: 4 });
  for (let i = 0; i < 5000; i++) store.set(bytes(`key-${i}`), i, 0, bytes(`${i}`));
  const s = store.stats();
  assert.ok(s.hashPowerLevel >= 12, `${s.hashPowerLevel}`);
  assert.equal(s.hashBytes, 4 << s.hashPowerLevel);
  for (let i = 0; i < 5000; i++) {
    const slot = store.get(bytes(`key-${i}`));
    assert.equal(store.items.flags(slot), i);
    assert.equal(latin1(store.items.value(slot)), `${i}`);
  }
});

Deno.test("Store counts bytes and items as memcached does", () => {
  // memcached 1.6.18: "set a 0 0 1" makes bytes 61, or 53 with -C.
  for (const useCas of [true, false]) {
    const { store } = setup({ useCas });
    store.set(bytes("a"), 0, 0, bytes("x"));
    assert.equal(store.stats().bytes, useCas ? 61 : 53);
    store.set(bytes("flagged"), 7, 0, bytes("value"));
    assert.equal(store.stats().bytes, (useCas ? 61 : 53) + memcachedSize("flagged", 7, 5, useCas));
    assert.equal(
      store.items.itemSize(store.get(bytes("flagged"))),
      memcachedSize("flagged", 7, 5, useCas),
    );
    const s = store.stats();
    assert.deepEqual([s.currItems, s.totalItems], [2, 2]);
  }
});

Deno.test("Store reports size classes for stats slabs and stats items", () => {
  const { store, clock } = setup();
  store.set(bytes("a"), 0, 0, bytes("x"));
  store.set(bytes("b"), 0, 0, bytes("y".repeat(100)));
  clock.advance(7);
  store.get(bytes("a"));
  const classes = store.slabClasses();
  assert.equal(classes[0].id, 1);
  assert.equal(classes[0].chunkSize, 96);
  assert.equal(classes[0].chunksPerPage, 10922);
  const used = classes.filter((c) => c.items > 0);
  assert.deepEqual(used.map((c) => [c.id, c.chunkSize, c.items, c.totalPages]), [
    [1, 96, 1, 1],
    [2, 120, 1, 1],
  ]);
  assert.equal(used[0].age, 0);
  assert.equal(used[1].age, 7);
  assert.equal(used[0].getHits, 1);
  assert.equal(used[0].setCmds, 1);
  assert.equal(used[1].freeChunks, 8738 - 1);
});

Deno.test("Store resetStats zeroes counters but keeps the items", () => {
  const { store } = setup();
  store.set(bytes("a"), 0, 0, bytes("x"));
  store.get(bytes("a"));
  store.get(bytes("nope"));
  store.resetStats();
  const s = store.stats();
  assert.deepEqual(
    [s.getHits, s.getMisses, s.totalItems, s.cmdSet, s.currItems, s.bytes],
    [0, 0, 0, 0, 1, 61],
  );
  assert.equal(store.slabClasses()[0].items, 1);
});

Deno.test("Store rejects options memcached refuses", () => {
  assert.throws(() => new Store({ maxBytes: 1024 * 1024 }), RangeError); // -I 1m > -m 1 / 2
  assert.throws(() => new Store({ growthFactor: 1 }), RangeError);
  assert.throws(() => new Store({ maxBytes: 0.5 }), RangeError);
});

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
class Socket implements Disposable {
  #conn: Deno.TcpConn;
  #pending = "";
  #buf = new Uint8Array(1 << 16);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async request(text: string, end: string): Promise<string> {
    const data = Uint8Array.from(text, (c) => c.charCodeAt(0));
    for (let sent = 0; sent < data.length;) sent += await this.#conn.write(data.subarray(sent));
    const deadline = Date.now() + 20_000;
    while (!this.#pending.endsWith(end)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#conn.read(this.#buf),
        new Promise<"timeout">((r) =>
          timer = setTimeout(() => r("timeout"), deadline - Date.now())
        ),
      ]);
      clearTimeout(timer);
      if (n === "timeout") {
        throw new Error(
          `Cannot read: no ${JSON.stringify(end)} after ${
            JSON.stringify(this.#pending.slice(-300))
          }`,
        );
      }
      if (n === null) throw new Error(`Cannot read: closed after ${JSON.stringify(this.#pending)}`);
      this.#pending += latin1(this.#buf.subarray(0, n));
    }
    const reply = this.#pending;
    this.#pending = "";
    return reply;
  }

  [Symbol.dispose]() {
    this.#conn.close();
  }
}

/** One request: its bytes on the wire, how its reply ends, and the reply the store gives. */
interface Step {
  wire(): string;
  end: string;
  store(): string;
}

const STORE_REPLY: Record<string, string> = {
  TOO_LARGE: "SERVER_ERROR object too large for cache",
  NO_MEMORY: "SERVER_ERROR out of memory storing object",
};

function differentialSteps(store: Store, withFlush: boolean): Step[] {
  const steps: Step[] = [];
  const storage = (
    cmd: "set" | "add" | "replace" | "append" | "prepend",
    key: string,
    flags: number,
    exptime: number,
    value: string,
  ) =>
    steps.push({
      wire: () => `${cmd} ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`,
      end: "\r\n",
      store: () => {
        const k = bytes(key);
        const v = Uint8Array.from(value, (c) => c.charCodeAt(0));
        const r = cmd === "append"
          ? store.append(k, v)
          : cmd === "prepend"
          ? store.prepend(k, v)
          : store[cmd](k, flags, exptime, v);
        return `${STORE_REPLY[r] ?? r}\r\n`;
      },
    });
  // The unique sent is the store's own: equal only if both count cas alike.
  const cas = (key: string, value: string, unique: () => number) =>
    steps.push({
      wire: () => `cas ${key} 0 0 ${value.length} ${unique()}\r\n${value}\r\n`,
      end: "\r\n",
      store: () => `${store.cas(bytes(key), 0, 0, bytes(value), unique())}\r\n`,
    });
  const uniqueOf = (key: string) => () => {
    const slot = store.get(bytes(key));
    return slot < 0 ? 1 : store.items.casUnique(slot);
  };
  const get = (cmd: "get" | "gets", ...keys: string[]) =>
    steps.push({
      wire: () => `${cmd} ${keys.join(" ")}\r\n`,
      end: "END\r\n",
      store: () => {
        let out = "";
        for (const key of keys) {
          const slot = store.get(bytes(key));
          if (slot < 0) continue;
          const cas = cmd === "gets" ? ` ${store.items.casUnique(slot)}` : "";
          out += `VALUE ${key} ${store.items.flags(slot)} ${
            store.items.valueLength(slot)
          }${cas}\r\n`;
          out += `${latin1(store.items.value(slot))}\r\n`;
        }
        return out + "END\r\n";
      },
    });
  const delta = (cmd: "incr" | "decr", key: string, by: bigint) =>
    steps.push({
      wire: () => `${cmd} ${key} ${by}\r\n`,
      end: "\r\n",
      store: () => {
        const r = store[cmd](bytes(key), by);
        if (r === "NON_NUMERIC") {
          return "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";
        }
        return `${r === "NO_MEMORY" ? "SERVER_ERROR out of memory" : r}\r\n`;
      },
    });
  const other = (wire: string, store: () => string) =>
    steps.push({ wire: () => `${wire}\r\n`, end: "\r\n", store: () => `${store()}\r\n` });

  storage("set", "a", 5, 0, "10");
  delta("decr", "a", 1n);
  get("gets", "a");
  delta("incr", "a", 1n);
  delta("incr", "a", 100n);
  get("gets", "a");
  storage("set", "b", 7, 100, "18446744073709551615");
  delta("incr", "b", 1n);
  get("gets", "b");
  for (
    const value of [
      "abc",
      "12ab",
      "",
      " ",
      "-1",
      "-0",
      "+5",
      " 12",
      "12 a",
      "\t12",
      "0x1",
      "1\r\n2",
      "18446744073709551616",
      "-18446744073709551615",
      // memcached's strtoull check looks for a '-' past the digits too, when the number is above 2^63.
      "18446744073709551615 -",
      "9223372036854775808 -",
      "12 -",
    ]
  ) {
    storage("set", "d", 0, 0, value);
    delta("incr", "d", 1n);
    get("get", "d");
  }
  delta("decr", "missing", 1n);
  storage("set", "g", 9, 0, "1");
  storage("append", "g", 0, 0, "2");
  storage("prepend", "g", 0, 0, "0");
  get("gets", "g");
  storage("append", "nog", 0, 0, "x");
  storage("prepend", "nog", 0, 0, "x");
  storage("add", "g", 0, 0, "x");
  storage("replace", "nog", 0, 0, "x");
  storage("replace", "g", 3, 0, "y");
  storage("append", "g", 0, 0, "z".repeat(2000));
  get("gets", "g", "nog");
  cas("g", "c1", uniqueOf("g"));
  cas("g", "c2", () => uniqueOf("g")() + 1);
  cas("g", "c3", () => 0);
  cas("zz", "c4", () => 1);
  get("gets", "g");
  storage("set", "big", 0, 0, "q");
  storage("set", "big", 0, 0, "x".repeat(1048517));
  get("get", "big");
  storage("set", "big", 0, 0, "x".repeat(1048516));
  storage("set", "big", 1, 0, "x".repeat(1048513));
  storage("set", "big", 1, 0, "x".repeat(1048512));
  storage("set", "big2", 0, 0, "q");
  storage("add", "big2", 0, 0, "x".repeat(2_000_000));
  storage("replace", "big2", 0, 0, "x".repeat(2_000_000));
  storage("append", "big2", 0, 0, "x".repeat(1048500));
  storage("set", "big3", 0, 0, "x".repeat(1048000));
  storage("append", "big3", 0, 0, "x".repeat(1000));
  get("get", "big", "big2");
  storage("set", "c", 0, -1, "y");
  get("get", "c");
  storage("set", "c", 0, -1, "y");
  other("delete c", () => (store.delete(bytes("c")) ? "DELETED" : "NOT_FOUND"));
  storage("set", "c", 0, -1, "y");
  other("touch c 10", () => (store.touch(bytes("c"), 10) >= 0 ? "TOUCHED" : "NOT_FOUND"));
  storage("set", "c", 0, -1, "y");
  delta("incr", "c", 1n);
  other("touch a 1000", () => (store.touch(bytes("a"), 1000) >= 0 ? "TOUCHED" : "NOT_FOUND"));
  other("delete a", () => (store.delete(bytes("a")) ? "DELETED" : "NOT_FOUND"));
  other("delete a", () => (store.delete(bytes("a")) ? "DELETED" : "NOT_FOUND"));
  storage("set", "flags", 4294967295, 0, "f");
  get("gets", "flags", "b", "g");
  if (withFlush) {
    storage("set", "f1", 0, 0, "x");
    other("flush_all", () => (store.flushAll(), "OK"));
    storage("set", "f2", 0, 0, "x");
    get("gets", "f1", "f2", "g");
  }
  return steps;
}

for (const useCas of [true, false]) {
  Deno.test(`Store answers as memcached 1.6.18 does over a socket${useCas ? "" : " with -C"}`, async () => {
    if (!hasMemcached()) return;
    await using memcached = await startMemcached(["-t", "1", ...(useCas ? [] : ["-C"])]);
    using socket = new Socket(await Deno.connect({ hostname: "127.0.0.1", port: memcached.port }));
    const { store } = setup({ useCas });
    // The flush is compared only with cas on: without it, memcached's answer
    // depends on whether its clock ticks between the flush and the next set.
    const steps = differentialSteps(store, useCas);
    let statsCompared = false;
    for (const [i, step] of steps.entries()) {
      const request = step.wire();
      const expected = await socket.request(request, step.end);
      const actual = step.store();
      assert.equal(
        actual.replace(/x{30,}/g, (m) => `x*${m.length}`),
        expected.replace(/x{30,}/g, (m) => `x*${m.length}`),
        `step ${i}: ${JSON.stringify(request.slice(0, 60))}`,
      );
      if (i === steps.length - (useCas ? 5 : 1)) {
        // Before any flush: memcached's background LRU maintainer may reclaim flushed items.
        const stats = await socket.request("stats\r\n", "END\r\n");
        const ours = store.stats();
        for (
          const [name, value] of [
            ["curr_items", ours.currItems],
            ["total_items", ours.totalItems],
            ["bytes", ours.bytes],
            ["get_expired", ours.getExpired],
            ["get_flushed", ours.getFlushed],
            ["evictions", ours.evictions],
          ] as const
        ) {
          const theirs = new RegExp(`STAT ${name} (\\d+)`).exec(stats)?.[1];
          assert.equal(String(value), theirs, name);
        }
        statsCompared = true;
      }
    }
    assert.ok(statsCompared);
  });
}

Deno.test("Store prefetch reads a batch ahead and changes nothing", () => {
  const { store } = setup();
  const keys = Array.from({ length: 50 }, (_, i) => bytes(`key${i}`));
  for (let i = 0; i < 50; i += 2) store.set(keys[i], i, 0, bytes(`value${i}`));
  const before = store.stats();
  assert.equal(store.prefetch(keys, 0), PREFETCH_BATCH);
  assert.equal(store.prefetch(keys, 40), 10);
  assert.equal(store.prefetch(keys, 50), 0);
  assert.deepEqual(store.stats(), before);
  for (let i = 0; i < 50; i++) {
    assert.equal(read(store, `key${i}`), i % 2 ? undefined : `value${i}`);
  }
});
