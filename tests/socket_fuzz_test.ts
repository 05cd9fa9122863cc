/**
 * The socket-level differential fuzz, in the suite: a fixed list of seeds
 * (`_socket_fuzz.ts`) against Debian's memcached and our server. The long
 * form, for thousands of seeds, is `deno run -A tests/socket_fuzz.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hasMemcached } from "./_peers.ts";
import { describe, fuzz, startPair } from "./_socket_fuzz.ts";
import { escape, generate, Rng, without, writesOf } from "./_fuzz_streams.ts";

/** The suite's seeds: a few seconds' worth, the same every run. */
const SEEDS = Array.from({ length: 30 }, (_, i) => 1 + i);
/** No seed starts after this long, so a slow machine shortens the run instead of stalling it. */
const TIME_LIMIT_MS = 10_000;

Deno.test({
  name: "our server answers random streams of commands as memcached does, byte for byte",
  ignore: !hasMemcached(),
  async fn() {
    await using pair = await startPair();
    let ran = 0;
    const mismatch = await fuzz(pair, SEEDS, {
      timeLimitMs: TIME_LIMIT_MS,
      onSeed: () => ran++,
    });
    if (mismatch !== undefined) assert.fail(describe(mismatch));
    assert.ok(ran >= 10, `Cannot judge the fuzz: only ${ran} seeds ran in ${TIME_LIMIT_MS} ms`);
  },
});

Deno.test("the fuzz's streams are the same for the same seed and differ between seeds", () => {
  assert.deepEqual(generate(7), generate(7));
  assert.notDeepEqual(generate(7), generate(8));
  const rng = new Rng(1);
  const first = [rng.next(), rng.next()];
  assert.notEqual(first[0], first[1]);
});

Deno.test("a stream without a command keeps its other writes cut where they were", () => {
  const stream = { commands: ["aa", "bbb", "cc"], cuts: [1, 3, 5] };
  assert.deepEqual(writesOf(stream), ["a", "ab", "bb", "cc"]);
  assert.deepEqual(writesOf(without(stream, 1)), ["a", "a", "cc"]);
  assert.equal(escape("a\r\n\0\xff\\"), "a\\r\\n\\x00\\xff\\\\");
});
