/**
 * Differential tests of the operator commands: the transcripts in
 * `_operator_transcripts.ts` go to Debian's memcached 1.6.18 and to our
 * server, and the replies must be the same bytes once normalized by the
 * classic harness.
 *
 * @module
 */

import { testGroups } from "./_differential.ts";
import { OPERATOR_GROUPS } from "./_operator_transcripts.ts";

testGroups("our server answers operator commands as memcached does", OPERATOR_GROUPS);
