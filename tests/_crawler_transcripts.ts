/**
 * Transcripts for `lru_crawler`, and the normalizer its metadump needs:
 * memcached walks each class's HOT, WARM and COLD LRUs, ours one LRU per
 * class, so the same items come in another order, and their times are
 * absolute clocks of two processes started apart.
 *
 * @module
 */

import { normalize } from "./_differential.ts";
import type { TranscriptGroup } from "./_transcripts.ts";

function set(key: string, value: string, flags = 0, exptime = 0): string {
  return `set ${key} ${flags} ${exptime} ${value.length}\r\n${value}\r\n`;
}

/** Three items of class 1, one of a larger class, one fetched, one with an exptime, one key needing escapes. */
const ITEMS = set("a", "x") + set("b\x01c", "abc", 5, 100) + set("per%cent/é", "v") +
  set("big", "v".repeat(2000)) + "get a\r\n";

/**
 * Sorts each run of metadump lines (those ending in LF alone) and masks
 * their clocks: `exp=` (unless -1) and `la=` are Unix times of each server's
 * own start. Cas uniques stay: both servers number their stores alike.
 */
export function normalizeMetadump(reply: string): string {
  const masked = reply.replace(/ exp=\d+ /g, " exp=<t> ").replace(/ la=\d+ /g, " la=<t> ");
  const sorted = masked.replace(
    /(?:key=[^\r\n]*\n)+/g,
    (run) => run.split("\n").filter((l) => l !== "").sort().map((l) => `${l}\n`).join(""),
  );
  return normalize(sorted);
}

/** `lru_crawler` against a server with default flags. */
export const CRAWLER_GROUPS: TranscriptGroup[] = [
  {
    name: "lru_crawler metadump, crawl and settings",
    args: [],
    flushBefore: true,
    transcripts: [
      {
        name: "metadump of an empty cache is END alone",
        turns: ["lru_crawler metadump all\r\n", "lru_crawler metadump hash\r\n"],
      },
      {
        name: "metadump all, hash and a class list give each live item's line, then END",
        turns: [
          ITEMS,
          "lru_crawler metadump all\r\n",
          "lru_crawler metadump hash\r\n",
          "lru_crawler metadump 1\r\n",
          "lru_crawler metadump 2,1\r\n",
          "lru_crawler metadump 1,,63\r\n",
        ],
      },
      {
        name: "metadump passes over expired and flushed items",
        turns: [`${set("gone", "x", 0, -1)}${set("kept", "y")}`, "lru_crawler metadump all\r\n"],
      },
      {
        name: "what follows a metadump in its read is served once more bytes arrive",
        turns: [
          `${set("k", "v")}`,
          "lru_crawler metadump all\r\nversion\r\nlru_crawler metadump 1\r\n",
          "version\r\n",
        ],
      },
      {
        name: "a metadump after another reply in the same read is refused",
        turns: [
          "version\r\nlru_crawler metadump all\r\n",
          "lru_crawler metadump 0\r\nlru_crawler metadump 1\r\n",
        ],
      },
      {
        name: "a class id out of 1..63 or not a number is BADCLASS, a missing argument ERROR",
        turns: [
          "lru_crawler metadump 0\r\n",
          "lru_crawler metadump 64\r\n",
          "lru_crawler metadump x\r\n",
          "lru_crawler metadump -1\r\n",
          "lru_crawler metadump 1x\r\n",
          "lru_crawler metadump\r\nlru_crawler crawl 0\r\nlru_crawler crawl 1,64\r\n",
        ],
      },
      {
        name: "crawl reclaims expired items and answers OK; hash is refused",
        turns: [
          `${set("e1", "x", 0, -1)}${set("e2", "x", 0, -1)}${set("live", "y")}`,
          "lru_crawler crawl all\r\n",
          "lru_crawler crawl 1\r\n",
          "lru_crawler crawl 1,2\r\n",
          "lru_crawler crawl hash\r\n",
          "lru_crawler metadump all\r\n",
        ],
      },
      {
        name: "sleep and tocrawl take unsigned numbers, sleep at most a second",
        turns: [
          "lru_crawler sleep 100\r\nlru_crawler sleep 1000000\r\nlru_crawler sleep 1000001\r\n" +
          "lru_crawler sleep x\r\nlru_crawler tocrawl 5\r\nlru_crawler tocrawl -1\r\n" +
          "lru_crawler tocrawl 0\r\nlru_crawler sleep 100\r\n",
        ],
      },
      {
        name: "unknown subcommands and wrong token counts are ERROR",
        turns: [
          "lru_crawler\r\nlru_crawler foo\r\nlru_crawler a b c\r\n" +
          "lru_crawler crawl all noreply\r\nlru_crawler enable now\r\n",
        ],
      },
      {
        name: "disable refuses crawl and metadump until enable; enabling twice is an ERROR",
        turns: [
          "lru_crawler disable\r\n",
          "lru_crawler metadump all\r\n",
          "lru_crawler crawl all\r\nlru_crawler disable\r\n",
          "lru_crawler enable\r\n",
          "lru_crawler enable\r\n",
          "lru_crawler metadump all\r\n",
        ],
      },
    ],
  },
  {
    name: "-X refuses metadump and -W refuses watch",
    args: ["-X", "-W"],
    flushBefore: false,
    transcripts: [
      {
        name: "metadump is not allowed, crawl still is",
        turns: ["lru_crawler metadump all\r\n", "lru_crawler crawl all\r\n"],
      },
      { name: "watch is not allowed", turns: ["watch\r\n", "watch evictions\r\n"] },
    ],
  },
];
