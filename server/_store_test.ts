import assert from "node:assert/strict";
import { Store } from "./_store.ts";
import type { StoreOptions } from "./_types.ts";
import { bytes, latin1, memcachedSize, read, setup } from "./_test_utils.ts";

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
  // As memcached 1.6.18 places them: by the whole item size, header included (160 bytes for "b").
  assert.deepEqual(used.map((c) => [c.id, c.chunkSize, c.items, c.totalPages]), [
    [1, 96, 1, 1],
    [4, 192, 1, 1],
  ]);
  assert.equal(used[0].age, 0);
  assert.equal(used[1].age, 7);
  assert.equal(used[0].getHits, 1);
  assert.equal(used[0].setCmds, 1);
  assert.equal(used[1].freeChunks, 5461 - 1);
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

Deno.test("Store keeps a pinned value's bytes through an overwrite, a delete, page moves and new items", () => {
  // 2 MiB, so new items must reuse what is freed and pages must move between classes.
  const { store } = setup({ maxBytes: 2 * 1024 * 1024 });
  const size = 300 * 1024;
  assert.equal(store.set(bytes("big"), 0, 0, new Uint8Array(size).fill(0x61)), "STORED");
  const pinned = store.pinValue(store.get(bytes("big")));
  // The same size would be written in place were the chunk not pinned.
  assert.equal(store.set(bytes("big"), 0, 0, new Uint8Array(size).fill(0x62)), "STORED");
  assert.equal(read(store, "big"), "b".repeat(size));
  store.delete(bytes("big"));
  for (let i = 0; i < 20; i++) {
    store.set(bytes(`other${i}`), 0, 0, new Uint8Array(size).fill(0x63));
    store.set(bytes(`small${i}`), 0, 0, new Uint8Array(5000).fill(0x64));
  }
  assert.ok(pinned.value.every((b) => b === 0x61), "the pinned bytes changed");
  const before = store.stats().currItems;
  pinned.release();
  // Its chunk is free again: one more value of its size needs no eviction.
  store.set(bytes("again"), 0, 0, new Uint8Array(size).fill(0x65));
  assert.equal(store.stats().currItems, before + 1);
});
