import assert from "node:assert/strict";
import { Wire } from "../tests/_wire.ts";
import { CommandHandler } from "./_commands.ts";
import { Connection } from "./_connection.ts";
import { DataBlockPool } from "./_data_block_pool.ts";
import { PrefetchTurn } from "./_prefetch_turn.ts";
import { ServerStats } from "./_stats.ts";
import { Store } from "./_store.ts";
import { SETTINGS } from "./_test_utils.ts";
import { type Clock, SystemClock } from "./clock.ts";

/** A user's clock whose wall time is broken: `stats` (which prints `time`) raises inside the server. */
class BrokenWallClock implements Clock {
  #clock = new SystemClock();
  get started(): number {
    return this.#clock.started;
  }
  now(): number {
    return this.#clock.now();
  }
  unixTime(): number {
    throw new TypeError("Cannot read the wall clock: it is unplugged");
  }
}

Deno.test("an unexpected exception closes only its connection, is logged at verbosity 0 and counted", async () => {
  const clock = new BrokenWallClock();
  const store = new Store({ clock });
  const stats = new ServerStats(clock, SETTINGS, () => undefined);
  const handler = new CommandHandler(store, stats, SETTINGS, {
    shutdown: () => {},
    connections: () => [],
    listeners: () => [],
    refreshCerts: () => undefined,
  });
  const settings = {
    maxItemSize: SETTINGS.maxItemSize,
    useCas: true,
    verbosity: 0,
    requestsPerEvent: 20,
    budget: new DataBlockPool(SETTINGS.memoryLimit),
    turn: new PrefetchTurn(store),
  };
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const runs: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      runs.push(
        new Connection(conn, "a", "b", handler, stats, { ...settings, id: runs.length }).run(),
      );
    }
  })();
  const logged: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    using faulty = await Wire.connect(listener.addr.port);
    using bystander = await Wire.connect(listener.addr.port);
    assert.equal(await bystander.call("set k 0 0 1\r\nx\r\n"), "STORED\r\n");
    await faulty.send("set j 0 0 1\r\ny\r\nstats\r\n");
    // The reply buffered before the fault is dropped with the connection, as on any close.
    assert.equal(await faulty.readToClose(), "");
    assert.equal(await bystander.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nx\r\nEND\r\n");
    assert.equal(stats.unexpectedErrors, 1);
    assert.equal(logged.length, 1);
    assert.match(String(logged[0][0]), /closing the connection after an unexpected error/);
    assert.ok(logged[0][1] instanceof TypeError);
  } finally {
    console.error = consoleError;
    listener.close();
    await accepting;
    await Promise.all(runs);
  }
});
