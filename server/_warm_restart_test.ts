import assert from "node:assert/strict";
import { ManualClock } from "./clock.ts";
import { Store } from "./_store.ts";
import { loadWarmRestart, saveWarmRestart } from "./_warm_restart.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const LAYOUT = { memoryLimit: 4 * 1024 * 1024, maxItemSize: 1024 * 1024, cas: true };

function store(clock: ManualClock, layout = LAYOUT): Store {
  return new Store({ maxBytes: layout.memoryLimit, maxItemSize: layout.maxItemSize, clock });
}

/** Each live key with its value, cas and remaining ttl, in the store's LRU order. */
function contents(s: Store): string[] {
  const now = s.clock.now();
  return [...s.restart.liveItems()].map((slot) => {
    const exp = s.items.exptime(slot);
    return `${dec(s.items.key(slot))}=${dec(s.items.value(slot))} cas=${
      s.items.casUnique(slot)
    } ttl=${exp === 0 ? -1 : exp - now} flags=${s.items.flags(slot)}`;
  });
}

Deno.test("warm restart brings items back with their cas, remaining ttl, flags and LRU order", async () => {
  const path = await Deno.makeTempFile();
  try {
    const before = new ManualClock({ now: 500, started: 1_700_000_000 });
    const a = store(before);
    a.set(enc("old"), 1, 0, enc("x"));
    a.set(enc("ttl"), 2, 100, enc("y"));
    a.set(enc("short"), 3, 5, enc("z"));
    a.set(enc("new"), 4, 0, enc("w"));
    a.delete(enc("new"));
    a.set(enc("new"), 4, 0, enc("v"));
    const saved = contents(a);
    assert.equal(saved.length, 4);
    assert.equal(saveWarmRestart(path, a, LAYOUT), 4);
    // Ten seconds down: the 100 s ttl has 90 left, the 5 s one has expired.
    const after = new ManualClock({ now: 62, started: 1_700_000_000 + 500 - 62 + 10 });
    const b = store(after);
    assert.match(loadWarmRestart(path, b, LAYOUT), /restored 3 items \(1 expired/);
    assert.deepEqual(contents(b), [
      "old=x cas=1 ttl=-1 flags=1",
      "ttl=y cas=2 ttl=90 flags=2",
      "new=v cas=5 ttl=-1 flags=4",
    ]);
    // The cas count goes on above every restored one.
    b.set(enc("fresh"), 0, 0, enc("f"));
    assert.equal(b.items.casUnique(b.peek(enc("fresh"))), 6);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(path).catch((e) => assert.ok(e instanceof Deno.errors.NotFound));
  }
});

Deno.test("warm restart starts empty from a torn, corrupt or foreign file, and removes it", async () => {
  const path = await Deno.makeTempFile();
  try {
    const clock = new ManualClock();
    const a = store(clock);
    for (let i = 0; i < 100; i++) a.set(enc(`k${i}`), 0, 0, enc(`v${i}`));
    saveWarmRestart(path, a, LAYOUT);
    const good = await Deno.readFile(path);
    const cases: [string, Uint8Array, typeof LAYOUT, RegExp][] = [
      ["torn", good.subarray(0, good.length - 7), LAYOUT, /checksum/],
      ["flipped", good.map((b, i) => i === 200 ? b ^ 1 : b), LAYOUT, /checksum/],
      ["other -m", good, { ...LAYOUT, memoryLimit: 8 * 1024 * 1024 }, /\[maxbytes\]/],
      ["other -I", good, { ...LAYOUT, maxItemSize: 1024 * 1024 / 2 }, /\[item_size_max\]/],
      ["-C", good, { ...LAYOUT, cas: false }, /\[use_cas\]/],
      ["empty", new Uint8Array(0), LAYOUT, /not a memory file/],
    ];
    for (const [name, bytes, layout, why] of cases) {
      await Deno.writeFile(path, bytes);
      const b = store(clock, layout);
      assert.match(loadWarmRestart(path, b, layout), why, name);
      assert.equal(b.stats().currItems, 0, name);
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound, name);
    }
    assert.match(loadWarmRestart(path, store(clock), LAYOUT), /no metadata save file/);
  } finally {
    await Deno.remove(path).catch((e) => assert.ok(e instanceof Deno.errors.NotFound));
  }
});
