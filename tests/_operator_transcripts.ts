/**
 * Byte transcripts of the commands operators run against a live cache:
 * `stats detail`, `stats sizes`, `cache_memlimit`, `slabs reassign` and
 * `slabs automove`. `operator_differential_test.ts` sends each to Debian's
 * memcached and to our server; both must answer alike.
 *
 * @module
 */

import type { TranscriptGroup } from "./_transcripts.ts";

function set(key: string, value: string, flags = 0): string {
  return `set ${key} ${flags} 0 ${value.length}\r\n${value}\r\n`;
}

/** Keys under many prefixes, so the dump shows memcached's bucket order. */
const PREFIXED = ["user", "session", "a", "b", "cart", "zz", "u", "us", "x1", "order"].map((p, i) =>
  `${p}:${i}`
);

/** 1100 values of 1000 bytes: two pages of class 12 (1184-byte chunks, 885 a page). */
const TWO_PAGES = Array.from({ length: 1100 }, (_, i) => set(`r${i}`, "x".repeat(1000))).join("");

export const OPERATOR_GROUPS: TranscriptGroup[] = [
  {
    name: "stats detail, stats sizes, cache_memlimit and slabs with default flags",
    args: [],
    flushBefore: false,
    transcripts: [
      {
        name:
          "stats detail on counts gets, hits, sets and deletes by prefix, dumped in memcached's order",
        turns: [
          `stats detail dump\r\n${set("before:1", "x")}stats detail on\r\n` +
          PREFIXED.map((k) => set(k, "v")).join("") +
          `get ${PREFIXED.join(" ")} user:miss nocolon\r\ngat 0 session:1 cart:9\r\n` +
          "delete a:2\r\ndelete a:2\r\ndelete nocolon\r\n" + set("nocolon", "y") +
          "set toolong:1 0 0 -1\r\nstats detail dump\r\nstats settings\r\n",
          `stats detail off\r\n${set("user:0", "w")}get user:0\r\nstats detail dump\r\n` +
          "stats detail\r\nstats detail bogus\r\nstats settings\r\n",
        ],
      },
      {
        name: "stats reset forgets the detail counters",
        turns: ["stats reset\r\nstats detail dump\r\n"],
      },
      {
        name:
          "stats sizes counts items stored after sizes_enable in 32-byte steps; enable and disable end without END",
        turns: [
          "stats sizes\r\nstats sizes_enable\r\n",
          `stats sizes\r\n${set("z1", "a")}${set("z2", "b")}${set("z3", "c".repeat(200))}` +
          `${set("z4", "d".repeat(5000))}stats sizes\r\ndelete z2\r\nstats sizes\r\n` +
          `${set("z1", "e".repeat(40))}stats sizes\r\nstats settings\r\n`,
          "stats sizes_enable\r\nstats sizes_disable\r\n",
          "stats sizes\r\nstats sizes_disable\r\n",
          "stats sizes\r\nstats settings\r\n",
        ],
      },
      {
        name:
          "cache_memlimit answers OK, its limits and ERROR as memcached does, and noreply silences all",
        turns: [
          "cache_memlimit 7\r\ncache_memlimit 8\r\ncache_memlimit 1000000001\r\n" +
          "cache_memlimit 1000000000\r\ncache_memlimit x\r\ncache_memlimit -1\r\n" +
          "cache_memlimit\r\ncache_memlimit 1 2 3\r\ncache_memlimit 7 noreply\r\n" +
          "cache_memlimit x noreply\r\ncache_memlimit 100 noreply\r\nstats\r\nstats settings\r\n",
          "cache_memlimit 64\r\nstats settings\r\n",
        ],
      },
      {
        name: "slabs automove takes 0, 1, 2 and a ratio, and stats settings shows them",
        turns: [
          "slabs automove 0\r\nslabs automove 2\r\nslabs automove 3\r\nslabs automove -1\r\n" +
          "slabs automove x\r\nslabs automove ratio 0.5\r\nslabs automove ratio\r\n" +
          "slabs automove ratio x\r\nslabs automove\r\nslabs automove 0 noreply\r\n" +
          "slabs automove 9 noreply\r\nstats settings\r\n",
          "slabs automove 1\r\nslabs automove ratio 0.8\r\nstats settings\r\n",
        ],
      },
      {
        name:
          "slabs reassign refuses the same class, a bad class, a class without a spare page and bad numbers",
        turns: [
          `${
            set("small", "s")
          }slabs reassign 1 1\r\nslabs reassign 1 64\r\nslabs reassign 64 1\r\n` +
          "slabs reassign -2 1\r\nslabs reassign 1 -1\r\nslabs reassign 1 2\r\nslabs reassign 0 2\r\n" +
          "slabs reassign -1 2\r\nslabs reassign x 2\r\nslabs reassign 1 2x\r\n" +
          "slabs reassign 1\r\nslabs reassign 1 2 noreply\r\nslabs\r\nslabs bogus 1 2\r\nversion\r\n",
        ],
      },
      // Last: it leaves class 12 with one page and class 5 with an empty one.
      {
        name:
          "slabs reassign moves a page: the newest items take the free chunks, the rest are dropped",
        turns: [
          TWO_PAGES,
          "stats slabs\r\nslabs reassign 12 5\r\n",
          // memcached's page mover runs on its own thread; give it time.
          { pauseMs: 1000 },
          "stats slabs\r\nstats items\r\nstats\r\nget r0 r214 r215 r216 r884 r885 r1099\r\n" +
          "slabs reassign 12 5\r\nslabs reassign -1 0\r\n",
        ],
      },
    ],
  },
  {
    name: "slabs with -o no_slab_reassign",
    args: ["-o", "no_slab_reassign"],
    flushBefore: false,
    transcripts: [
      {
        name: "slabs reassign is refused before its numbers are read; automove still answers",
        turns: [
          "slabs reassign 1 2\r\nslabs reassign x y\r\nslabs reassign 1\r\nslabs automove 1\r\n",
        ],
      },
    ],
  },
];
