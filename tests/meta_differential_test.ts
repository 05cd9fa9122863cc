/**
 * Differential tests of the meta protocol: the transcripts in
 * `_meta_transcripts.ts` go to Debian's memcached 1.6.18 and to our server,
 * and the replies must be the same bytes once normalized by
 * `_meta_normalize.ts`, which says what it masks and why.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testGroups } from "./_differential.ts";
import { META_GROUPS } from "./_meta_transcripts.ts";
import { normalizeMeta } from "./_meta_normalize.ts";

testGroups("our server answers meta commands as memcached does", META_GROUPS, normalizeMeta);

Deno.test("normalizeMeta numbers meta cas uniques with VALUE ones and rounds ttls", () => {
  const reply = "VALUE k 0 1 17\r\nx\r\nEND\r\nHD c17 t59 l3 kk\r\nVA 2 c18 t-1\r\nc9\r\n" +
    "ME k exp=-59 la=2 cas=17 fetch=yes cls=1 size=61\r\nEX c0\r\n";
  assert.equal(
    normalizeMeta(reply),
    "VALUE k 0 1 <c1>\r\nx\r\nEND\r\nHD c<c1> t<~60> l<masked> kk\r\nVA 2 c<c2> t-1\r\nc9\r\n" +
      "ME k exp=-<~60> la=<masked> cas=<c1> fetch=yes cls=1 size=61\r\nEX c0\r\n",
  );
});
