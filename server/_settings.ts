/**
 * memcached 1.6.18's defaults for the settings this server takes and shows
 * without a mechanism behind them.
 *
 * @module
 */

import type { Tunables } from "./_types.ts";

/** memcached's defaults for the settings this server only shows. */
export const DEFAULT_TUNABLES: Tunables = {
  maxconnsFast: true,
  hashpowerInit: 0,
  slabReassign: true,
  slabAutomove: 1,
  slabAutomoveRatio: 0.8,
  slabAutomoveWindow: 30,
  slabAutomoveFreeratio: 0.01,
  slabChunkMax: 512 * 1024,
  slabSizes: [],
  lruCrawler: true,
  lruCrawlerSleep: 100,
  lruCrawlerTocrawl: 0,
  tailRepairTime: 0,
  hashAlgorithm: "murmur3",
  hotLruPct: 20,
  warmLruPct: 40,
  hotMaxFactor: 0.2,
  warmMaxFactor: 2,
  tempLru: false,
  temporaryTtl: 61,
  watcherLogbufSize: 256 * 1024,
  workerLogbufSize: 64 * 1024,
  trackSizes: false,
  dumpEnabled: true,
  watchEnabled: true,
  napiIds: undefined,
  extItemSize: 512,
  extItemAge: 4294967295,
  extLowTtl: 0,
  extRecacheRate: 2000,
  extWbufSize: 4 * 1024 * 1024,
  extCompactUnder: 0,
  extDropUnder: 0,
  extMaxSleep: 1000000,
  extMaxFrag: 0.8,
  extDropUnread: false,
};
