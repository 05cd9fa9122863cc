/**
 * The meta protocol's normalizer for differential tests: beyond the classic
 * one (`normalize` in `_differential.ts`), meta replies carry values that
 * differ by nature, each masked here by shape:
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

import { normalize } from "./_differential.ts";

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
