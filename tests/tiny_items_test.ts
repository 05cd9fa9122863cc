import assert from "node:assert/strict";
import { loadTinyItems } from "../bench/tiny_items.ts";
import { hasMemcached } from "./_peers.ts";
import { startOurServer, startReference } from "./_servers.ts";

const ITEMS = 500_000;
const MEGABYTES = 16;
/**
 * Measured 1.8x: the pages, the rows inside them, the hash table and the
 * runtime's own growth under load. Rows held beyond -m measured 2.8x to 3.1x.
 */
const GROWTH_BOUND = 2.5;

Deno.test({
  name:
    "500,000 tiny items under -m 16 grow the server by less than 2.5x -m, as many kept as memcached",
  async fn() {
    await using ours = await startOurServer(["-m", String(MEGABYTES)]);
    const started = performance.now();
    const r = await loadTinyItems({ port: ours.port, pid: ours.process.pid }, ITEMS);
    assert.ok(performance.now() - started < 30_000, "the load took more than 30 s");
    assert.equal(r.totalItems, ITEMS);
    assert.equal(r.currItems + r.evictions, ITEMS);
    assert.ok(r.evictions > 0, "the load never filled -m");
    const growth = (r.rssAfter - r.rssBefore) / (MEGABYTES * 1024 * 1024);
    assert.ok(growth < GROWTH_BOUND, `RSS grew by ${growth.toFixed(2)}x -m`);
    if (!hasMemcached()) return;
    await using reference = await startReference(["-m", String(MEGABYTES)]);
    const theirs = await loadTinyItems(
      { port: reference.port, pid: reference.process.pid },
      ITEMS,
    );
    // Each item takes memcached's chunk, its header counted, so -m holds as many.
    assert.equal(r.currItems, theirs.currItems);
  },
});
