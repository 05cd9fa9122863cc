import assert from "node:assert/strict";
import { bytes, memcachedSize, read, setup, smallStore } from "./_test_utils.ts";

const VALUE = "v".repeat(30);

/** Stores `n` items of class 1 (96-byte chunks), keys k0, k1, ... */
function fill(store: ReturnType<typeof setup>["store"], n: number): void {
  for (let i = 0; i < n; i++) {
    assert.equal(store.set(bytes(`k${i}`), 0, 0, bytes(VALUE)), "STORED");
  }
}

Deno.test("Store setMemoryLimit below what is held evicts pages until within it", () => {
  const { store } = smallStore(8);
  fill(store, 80);
  assert.equal(store.stats().totalMalloced, 8 * 1024);
  store.operator.setMemoryLimit(3 * 1024);
  const stats = store.stats();
  assert.ok(stats.totalMalloced <= 3 * 1024, `total_malloced ${stats.totalMalloced}`);
  assert.equal(stats.limitMaxbytes, 3 * 1024);
  assert.equal(stats.currItems, 30);
  // memcached's page mover counts what it drops apart from evictions.
  assert.equal(stats.evictions, 0);
  assert.equal(stats.slabReassignEvictionsNomem, 50);
  let kept = 0;
  for (let i = 0; i < 80; i++) {
    const value = read(store, `k${i}`);
    if (value !== undefined) {
      assert.equal(value, VALUE);
      kept++;
    }
  }
  assert.equal(kept, 30);
  // New items now evict within the lower limit instead of taking pages.
  fill(store, 40);
  assert.ok(store.stats().totalMalloced <= 3 * 1024);
});

Deno.test("Store setMemoryLimit above what is held lets classes take more pages", () => {
  const { store } = smallStore(2);
  fill(store, 40);
  assert.equal(store.stats().currItems, 20);
  store.operator.setMemoryLimit(6 * 1024);
  fill(store, 40);
  assert.equal(store.stats().currItems, 40);
  assert.equal(store.stats().totalMalloced, 4 * 1024);
});

Deno.test("Store reassignPage answers as memcached's slabs_reassign", () => {
  const { store } = smallStore(8);
  fill(store, 10);
  assert.equal(store.operator.reassignPage(1, 1), "SAME");
  assert.equal(store.operator.reassignPage(1, 99), "BADCLASS");
  assert.equal(store.operator.reassignPage(-2, 3), "BADCLASS");
  assert.equal(store.operator.reassignPage(1, 2), "NOSPARE");
  assert.equal(store.operator.reassignPage(-1, 2), "BADCLASS");
  assert.equal(store.operator.reassignPage(0, 2), "NOSPARE");
});

Deno.test("Store reassignPage moves the first page, rescuing its items into free chunks", () => {
  const { store } = smallStore(8);
  fill(store, 30);
  // Three pages of ten; deleting five from the last page leaves room for five rescues.
  for (let i = 25; i < 30; i++) assert.ok(store.delete(bytes(`k${i}`)));
  assert.equal(store.operator.reassignPage(1, 2), "OK");
  const [one, two] = store.slabClasses();
  assert.equal(one.totalPages, 2);
  assert.equal(two.totalPages, 1);
  assert.equal(two.freeChunks, two.chunksPerPage);
  const stats = store.stats();
  assert.equal(stats.slabsMoved, 1);
  assert.equal(stats.slabReassignRescues, 5);
  assert.equal(stats.totalItems, 35);
  assert.equal(stats.slabReassignEvictionsNomem, 5);
  assert.equal(stats.currItems, 20);
  assert.equal(stats.totalMalloced, 3 * 1024);
  assert.equal(stats.evictions, 0);
  // As memcached's mover, the page's newest five items took the five free chunks.
  for (let i = 0; i < 25; i++) {
    assert.equal(read(store, `k${i}`), i < 5 ? undefined : VALUE, `k${i}`);
  }
  // -1 picks a class with a spare page; 0 sends the page to the pool, which gives it back.
  assert.equal(store.operator.reassignPage(-1, 0), "OK");
  assert.equal(store.slabClasses()[0].totalPages, 1);
  assert.equal(store.stats().totalMalloced, 3 * 1024);
});

Deno.test("Store trackSizes counts items stored from then on by size rounded up to 32", () => {
  const { store } = setup();
  assert.equal(store.operator.sizes(), undefined);
  assert.equal(store.operator.sizesTracked, false);
  store.set(bytes("before"), 0, 0, bytes("x"));
  assert.equal(store.operator.trackSizes(true), true);
  assert.equal(store.operator.sizesTracked, true);
  store.set(bytes("a"), 0, 0, bytes("1"));
  store.set(bytes("b"), 0, 0, bytes("2"));
  store.set(bytes("c"), 0, 0, bytes("v".repeat(100)));
  const small = Math.ceil(memcachedSize("a", 0, 1) / 32) * 32;
  const big = Math.ceil(memcachedSize("c", 0, 100) / 32) * 32;
  assert.deepEqual(store.operator.sizes(), [[small, 2], [big, 1]]);
  store.delete(bytes("b"));
  // An item stored before counting began is not taken out either.
  store.delete(bytes("before"));
  assert.deepEqual(store.operator.sizes(), [[small, 1], [big, 1]]);
  assert.equal(store.operator.trackSizes(false), true);
  assert.equal(store.operator.sizes(), undefined);
});

Deno.test("Store trackSizes needs cas unless counting from the start", () => {
  const { store } = setup({ useCas: false });
  assert.equal(store.operator.trackSizes(true), false);
  assert.equal(store.operator.sizes(), undefined);
  const started = setup({ useCas: false, trackSizes: true }).store;
  started.set(bytes("a"), 0, 0, bytes("1"));
  assert.deepEqual(started.operator.sizes(), [[
    Math.ceil(memcachedSize("a", 0, 1, false) / 32) * 32,
    1,
  ]]);
});
