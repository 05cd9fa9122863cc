import assert from "node:assert/strict";
import { bytes, memcachedSize, read, setup, smallStore } from "./_test_utils.ts";

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
