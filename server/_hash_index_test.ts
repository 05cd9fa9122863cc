import assert from "node:assert/strict";
import { PREFETCH_BATCH } from "./_hash_index.ts";
import { bytes, latin1, read, setup } from "./_test_utils.ts";

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
