// What V8 charges for a key string's first use as a hash key, the floor
// under `getMulti` for keys new to the process: its result holds each hit
// under the caller's key string, so every new string is hashed and
// internalized once. 100 keys built like the bench's (`key:` and 12 digits)
// are stored into an object without a prototype, as `getMulti` builds it;
// the cold cases get 100 strings never used before in each iteration, built
// outside the timed part.
//
//   deno bench -A bench/key_strings_bench.ts

const KEYS = 100;
let next = 0;
/** 100 strings never seen before, built as an application builds keys. */
function freshKeys(): string[] {
  const keys = new Array<string>(KEYS);
  for (let i = 0; i < KEYS; i++) keys[i] = `key:${String(next++).padStart(12, "0")}`;
  return keys;
}
const warm = freshKeys();
// Results feed a module variable so no store can be optimised away.
let sink = 0;

function store(keys: string[]): void {
  const found: Record<string, number> = Object.create(null);
  for (let i = 0; i < KEYS; i++) found[keys[i]] = i;
  sink ^= found[keys[KEYS - 1]];
}

Deno.bench("100 keys as property names: strings used before", {
  group: "property-names",
  baseline: true,
}, () => store(warm));

Deno.bench("100 keys as property names: new strings", { group: "property-names" }, (b) => {
  const keys = freshKeys();
  b.start();
  store(keys);
  b.end();
});

Deno.bench("100 keys into a Map: new strings", { group: "property-names" }, (b) => {
  const keys = freshKeys();
  b.start();
  const found = new Map<string, number>();
  for (let i = 0; i < KEYS; i++) found.set(keys[i], i);
  sink ^= found.size;
  b.end();
});
