/**
 * Differential tests of ASCII authentication: the transcripts in
 * `_auth_transcripts.ts` go to Debian's memcached 1.6.18 and to our server,
 * both started with `-Y` and the same auth file, and the replies must be the
 * same bytes once normalized (`_differential.ts`), including which side
 * closes the connection.
 *
 * @module
 */

import { startReference, tempFiles } from "./_servers.ts";
import { assertSameReplies, HAS_MEMCACHED, roundTrip, startOurs } from "./_differential.ts";
import { AUTH_GROUP, USERS } from "./_auth_transcripts.ts";

/** A first request, so a cold JIT is not taken for silence; it counts in no stat. */
const warmUp = (port: number) => roundTrip(port, "version\r\n", "CLIENT_ERROR unauthenticated\r\n");

Deno.test({
  name: `our server answers as memcached does: ${AUTH_GROUP.name}`,
  ignore: !HAS_MEMCACHED,
  async fn(t) {
    await using files = await tempFiles({ users: USERS });
    const args = files.args(AUTH_GROUP.args);
    await using reference = await startReference(args);
    await using ours = await startOurs(args);
    await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
    for (const transcript of AUTH_GROUP.transcripts) {
      await t.step(transcript.name, () => assertSameReplies(reference, ours, transcript));
    }
  },
});
