/**
 * Differential tests of the operator commands: the transcripts in
 * `_operator_transcripts.ts` go to Debian's memcached 1.6.18 and to our
 * server, and the replies must be the same bytes once normalized by the
 * classic harness.
 *
 * @module
 */

import { startReference } from "./_servers.ts";
import { assertSameReplies, HAS_MEMCACHED, startOurs, warmUp } from "./_differential.ts";
import { OPERATOR_GROUPS } from "./_operator_transcripts.ts";

for (const group of OPERATOR_GROUPS) {
  Deno.test({
    name: `our server answers operator commands as memcached does: ${group.name}`,
    ignore: !HAS_MEMCACHED,
    async fn(t) {
      await using reference = await startReference(group.args);
      await using ours = await startOurs(group.args);
      await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
      for (const transcript of group.transcripts) {
        await t.step(transcript.name, () => assertSameReplies(reference, ours, transcript));
      }
    },
  });
}
