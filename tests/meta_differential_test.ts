/**
 * Differential tests of the meta protocol: the transcripts in
 * `_meta_transcripts.ts` go to Debian's memcached 1.6.18 and to our server,
 * and the replies must be the same bytes once normalized.
 *
 * Beyond the classic normalizer (`_differential.ts`), meta replies carry
 * values that differ by nature, each masked here by shape:
 *
 * - cas uniques (`c<n>` in HD/VA/EX/NF/NS lines, `cas=<n>` in ME lines)
 *   become `<c1>`, `<c2>`, ... shared with `VALUE` lines, so a unique seen
 *   by `gets` and by `mg c` must be the same one;
 * - a ttl (`t<n>`, and the `exp=-<n>` of `me`) is rounded up to a multiple
 *   of 10: each server's clock ticks on its own, so a ttl of 60 reads 59 or
 *   60 depending on when the second turns;
 * - seconds since the last access (`l<n>`, `la=<n>`) are masked: memcached's
 *   segmented LRU stamps the access time on the second hit only, ours on
 *   every hit, and both also depend on when the second turns. `h` (fetched)
 *   and every other flag are compared exactly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startReference } from "./_servers.ts";
import {
  assertSameReplies,
  flushAll,
  HAS_MEMCACHED,
  normalize,
  startOurs,
  warmUp,
} from "./_differential.ts";
import { META_GROUPS } from "./_meta_transcripts.ts";

const META_LINE = /^(?:HD|EX|NF|NS|EN|VA \d+)(?: |$)/;

function uniqueName(uniques: Map<string, string>, cas: string): string {
  if (cas === "0") return "0";
  let name = uniques.get(cas);
  if (name === undefined) {
    name = `<c${uniques.size + 1}>`;
    uniques.set(cas, name);
  }
  return name;
}

/** Seconds rounded up to a multiple of 10, so a clock tick between servers does not count. */
function roughly(seconds: string): string {
  return `<~${Math.ceil(Number(seconds) / 10) * 10}>`;
}

function normalizeMetaLine(line: string, uniques: Map<string, string>): string {
  if (line.startsWith("ME ")) {
    return line
      .replace(/ exp=-(\d+)/, (_, n: string) => ` exp=-${roughly(n)}`)
      .replace(/ la=\d+/, " la=<masked>")
      .replace(/ cas=(\d+)/, (_, n: string) => ` cas=${uniqueName(uniques, n)}`);
  }
  if (!META_LINE.test(line)) return line;
  const tokens = line.split(" ");
  const first = line.startsWith("VA ") ? 2 : 1;
  for (let i = first; i < tokens.length; i++) {
    const token = tokens[i];
    let match;
    if ((match = /^c(\d+)$/.exec(token)) !== null) {
      tokens[i] = `c${uniqueName(uniques, match[1])}`;
    } else if ((match = /^t(\d+)$/.exec(token)) !== null) {
      tokens[i] = `t${roughly(match[1])}`;
    } else if (/^l\d+$/.test(token)) {
      tokens[i] = "l<masked>";
    }
  }
  return tokens.join(" ");
}

/** The classic normalizer, after the meta masks above; data blocks stay byte for byte. */
export function normalizeMeta(reply: string): string {
  const uniques = new Map<string, string>();
  let out = "";
  let at = 0;
  while (at < reply.length) {
    const eol = reply.indexOf("\r\n", at);
    if (eol < 0) {
      out += reply.slice(at);
      break;
    }
    const line = reply.slice(at, eol);
    at = eol + 2;
    out += `${normalizeMetaLine(line, uniques)}\r\n`;
    const block = /^(?:VA (\d+)|VALUE \S+ \d+ (\d+))/.exec(line);
    if (block !== null) {
      const end = Math.min(reply.length, at + Number(block[1] ?? block[2]) + 2);
      out += reply.slice(at, end);
      at = end;
    }
  }
  return normalize(out, uniques);
}

for (const group of META_GROUPS) {
  Deno.test({
    name: `our server answers meta commands as memcached does: ${group.name}`,
    ignore: !HAS_MEMCACHED,
    async fn(t) {
      await using reference = await startReference(group.args);
      await using ours = await startOurs(group.args);
      await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
      for (const transcript of group.transcripts) {
        await t.step(transcript.name, async () => {
          if (group.flushBefore) await Promise.all([flushAll(reference.port), flushAll(ours.port)]);
          await assertSameReplies(reference, ours, transcript, normalizeMeta);
        });
      }
    },
  });
}

Deno.test("normalizeMeta numbers meta cas uniques with VALUE ones and rounds ttls", () => {
  const reply = "VALUE k 0 1 17\r\nx\r\nEND\r\nHD c17 t59 l3 kk\r\nVA 2 c18 t-1\r\nc9\r\n" +
    "ME k exp=-59 la=2 cas=17 fetch=yes cls=1 size=61\r\nEX c0\r\n";
  assert.equal(
    normalizeMeta(reply),
    "VALUE k 0 1 <c1>\r\nx\r\nEND\r\nHD c<c1> t<~60> l<masked> kk\r\nVA 2 c<c2> t-1\r\nc9\r\n" +
      "ME k exp=-<~60> la=<masked> cas=<c1> fetch=yes cls=1 size=61\r\nEX c0\r\n",
  );
});
