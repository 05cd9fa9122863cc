import assert from "node:assert/strict";
import { SlabAllocator, type SlabAllocatorOptions, slabClassSizes } from "./_slab_allocator.ts";

const DEFAULTS: SlabAllocatorOptions = {
  maxBytes: 64 * 1024 * 1024,
  pageSize: 1024 * 1024,
  minChunkSize: 96,
  growthFactor: 1.25,
  maxItemSize: 512 * 1024,
};

Deno.test("slabClassSizes matches memcached 1.6.18's default classes", () => {
  // `memcached -vv` with default settings.
  const memcached = [
    96,
    120,
    152,
    192,
    240,
    304,
    384,
    480,
    600,
    752,
    944,
    1184,
    1480,
    1856,
    2320,
    2904,
    3632,
    4544,
    5680,
    7104,
    8880,
    11104,
    13880,
    17352,
    21696,
    27120,
    33904,
    42384,
    52984,
    66232,
    82792,
    103496,
    129376,
    161720,
    202152,
    252696,
    315872,
    394840,
    524288,
  ];
  assert.deepEqual(slabClassSizes(DEFAULTS).slice(1), memcached);
});

Deno.test("slabClassSizes matches memcached with -n 10 -f 2", () => {
  // `memcached -vv -n 10 -f 2`: the first chunk is the 48-byte header plus 10, aligned to 8.
  const memcached = [
    64,
    128,
    256,
    512,
    1024,
    2048,
    4096,
    8192,
    16384,
    32768,
    65536,
    131072,
    524288,
  ];
  assert.deepEqual(
    slabClassSizes({ ...DEFAULTS, minChunkSize: 58, growthFactor: 2 }).slice(1),
    memcached,
  );
});

Deno.test("slabClassSizes gives items above half a page one class of their own", () => {
  const sizes = slabClassSizes({ ...DEFAULTS, maxItemSize: 2 * 1024 * 1024 });
  assert.equal(sizes.length - 1, 40);
  assert.equal(sizes[39], 524288);
  assert.equal(sizes[40], 2 * 1024 * 1024);
});

Deno.test("SlabAllocator.classFor picks the smallest class that fits", () => {
  const slab = new SlabAllocator({ ...DEFAULTS, maxItemSize: 1024 * 1024 });
  assert.equal(slab.classFor(1), 1);
  assert.equal(slab.classFor(96), 1);
  assert.equal(slab.classFor(97), 2);
  assert.equal(slab.classFor(120), 2);
  assert.equal(slab.classFor(524288), 39);
  assert.equal(slab.classFor(524289), 40);
  assert.equal(slab.classFor(1024 * 1024), 40);
  assert.equal(slab.classFor(1024 * 1024 + 1), 0);
  for (let size = 1; size <= 600_000; size += 997) {
    const c = slab.classFor(size);
    assert.ok(slab.chunkSize[c] >= size && (c === 1 || slab.chunkSize[c - 1] < size), `${size}`);
  }
});

Deno.test("SlabAllocator reuses a freed chunk before carving a new one", () => {
  const slab = new SlabAllocator({ ...DEFAULTS, pageSize: 1024, maxBytes: 4096 });
  assert.ok(slab.alloc(1, 7));
  const first = [slab.allocPage, slab.allocOffset];
  assert.ok(slab.alloc(1, 8));
  assert.equal(slab.allocOffset, 96);
  slab.free(first[0], first[1]);
  assert.equal(slab.owners[first[0]][0], -1);
  assert.ok(slab.alloc(1, 9));
  assert.deepEqual([slab.allocPage, slab.allocOffset], first);
  assert.equal(slab.owners[first[0]][0], 9);
  assert.equal(slab.freeChunks(1), 10 - 2);
});

Deno.test("SlabAllocator hands out no more pages than maxBytes allows", () => {
  const slab = new SlabAllocator({ ...DEFAULTS, pageSize: 1024, maxBytes: 3 * 1024 });
  let n = 0;
  while (slab.alloc(1, n)) n++;
  assert.equal(n, 3 * 10);
  assert.equal(slab.memBytes, 3 * 1024);
  assert.equal(slab.alloc(2, 0), false);
  assert.equal(slab.classPages[1], 3);
});

Deno.test("SlabAllocator gives a pooled page to the next class that needs one", () => {
  const slab = new SlabAllocator({ ...DEFAULTS, pageSize: 1024, maxBytes: 1024 });
  assert.ok(slab.alloc(1, 0));
  const page = slab.allocPage;
  slab.free(page, slab.allocOffset);
  assert.equal(slab.emptyPages, 1);
  assert.equal(slab.alloc(3, 1), false);
  assert.equal(slab.detachPage(page), 1);
  assert.equal(slab.emptyPages, 0);
  slab.poolPage(page);
  assert.ok(slab.alloc(3, 1));
  assert.equal(slab.allocPage, page);
  assert.equal(slab.classPages[1], 0);
  assert.equal(slab.classPages[3], 1);
  assert.equal(slab.memBytes, 1024);
});

Deno.test("SlabAllocator holds a chunk's header outside its page but counts it against the limit", () => {
  const slab = new SlabAllocator({ ...DEFAULTS, maxBytes: 2 * 1024 * 1024, headerSize: 56 });
  assert.equal(slab.stride[1], 96 - 56);
  assert.ok(slab.alloc(1, 7));
  assert.ok(slab.alloc(1, 8));
  assert.equal(slab.allocOffset, 96 - 56);
  assert.equal(slab.pages[slab.allocPage].length, 10922 * (96 - 56));
  assert.equal(slab.memBytes, 1024 * 1024);
  slab.free(slab.allocPage, slab.allocOffset);
  assert.equal(slab.freeChunks(1), 10922 - 1);
  assert.ok(slab.alloc(1, 9));
  assert.equal(slab.allocOffset, 96 - 56);
  assert.equal(slab.owners[slab.allocPage][1], 9);
  // The second page is the last the limit allows, however few bytes each holds.
  assert.ok(slab.alloc(2, 10));
  assert.equal(slab.memBytes, 2 * 1024 * 1024);
  assert.equal(slab.canGrow(3), false);
});
