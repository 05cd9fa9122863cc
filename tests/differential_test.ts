/**
 * Differential tests: the same bytes go to Debian's memcached and to our
 * server, and the replies must be the same bytes, once the values that differ
 * by nature (cas uniques, clocks, pids, ports) are normalized.
 *
 * The transcripts live in `_transcripts.ts`, the harness and the normalizer
 * in `_differential.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startReference } from "./_servers.ts";
import {
  assertSameReplies,
  HAS_MEMCACHED,
  normalize,
  startOurs,
  testGroups,
  warmUp,
} from "./_differential.ts";
import { CRAWLER_GROUPS, normalizeMetadump } from "./_crawler_transcripts.ts";
import { GROUPS, TIMED } from "./_transcripts.ts";

testGroups("our server answers as memcached does", GROUPS);
testGroups("our server answers as memcached does", CRAWLER_GROUPS, normalizeMetadump);

Deno.test({
  name: "our server expires items and falls due on delayed flushes as memcached does",
  ignore: !HAS_MEMCACHED,
  async fn() {
    // Each transcript gets its own pair, so the one 2 s wait serves both.
    const results = await Promise.allSettled(TIMED.map(async (transcript) => {
      await using reference = await startReference([]);
      await using ours = await startOurs([]);
      await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
      try {
        await assertSameReplies(reference, ours, transcript);
      } catch (error) {
        throw new Error(`${transcript.name}: ${(error as Error).message}`, { cause: error });
      }
    }));
    const failures = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    if (failures.length > 0) throw new AggregateError(failures, failures.map(String).join("\n"));
  },
});

Deno.test("normalize numbers cas uniques by first appearance and masks clock stats", () => {
  const reply = "VALUE a 0 1 17\r\nx\r\nVALUE b 0 2 9\r\n17\r\nVALUE a 0 1 17\r\nx\r\n" +
    "VALUE c 0 1 0\r\ny\r\nEND\r\nSTAT pid 42\r\nSTAT curr_items 3\r\nSTAT items:1:age 7\r\n" +
    "STAT items:1:number 3\r\nEND\r\npartial";
  assert.equal(
    normalize(reply),
    "VALUE a 0 1 <c1>\r\nx\r\nVALUE b 0 2 <c2>\r\n17\r\nVALUE a 0 1 <c1>\r\nx\r\n" +
      "VALUE c 0 1 0\r\ny\r\nEND\r\nSTAT pid <masked>\r\nSTAT curr_items 3\r\n" +
      "STAT items:1:age <masked>\r\nSTAT items:1:number 3\r\nEND\r\npartial",
  );
});
