/**
 * Connections racing on one key, on our server and on Debian's memcached (its
 * four worker threads race for real): no increment is lost and none counted
 * twice.
 */

import assert from "node:assert/strict";
import { hasMemcached, startMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer } from "./_servers.ts";
import { Wire } from "./_wire.ts";

const RACERS = 20;
const SUCCESSES = 200;
const TIME_BOUND_MS = 30_000;

/** What one connection did: increments that took, and cas attempts another connection beat. */
interface Tally {
  successes: number;
  beaten: number;
}

/** `gets` then `cas` the value plus one, until `SUCCESSES` stores or the deadline. */
async function casLoop(port: number, deadline: number): Promise<Tally> {
  using wire = await Wire.connect(port);
  const tally = { successes: 0, beaten: 0 };
  while (tally.successes < SUCCESSES && Date.now() < deadline) {
    const got = await wire.call("gets counter\r\n", "END\r\n");
    const header = /^VALUE counter 0 (\d+) (\d+)\r\n/.exec(got);
    assert.ok(header, got);
    const data = got.slice(header[0].length, header[0].length + Number(header[1]));
    const next = String(BigInt(data) + 1n);
    const reply = await wire.call(`cas counter 0 0 ${next.length} ${header[2]}\r\n${next}\r\n`);
    if (reply === "STORED\r\n") tally.successes++;
    else if (reply === "EXISTS\r\n") tally.beaten++;
    else assert.fail(`cas answered ${JSON.stringify(reply)}`);
  }
  return tally;
}

/** `incr` by one, until `SUCCESSES` or the deadline. */
async function incrLoop(port: number, deadline: number): Promise<Tally> {
  using wire = await Wire.connect(port);
  const tally = { successes: 0, beaten: 0 };
  while (tally.successes < SUCCESSES && Date.now() < deadline) {
    assert.match(await wire.call("incr counter 1\r\n"), /^\d+\r\n$/);
    tally.successes++;
  }
  return tally;
}

const TARGETS: [string, () => Promise<ServerProcess>, boolean][] = [
  ["ours", () => startOurServer(), true],
  ["Debian's memcached", () => startMemcached(), hasMemcached()],
];

for (const [name, start, present] of TARGETS) {
  Deno.test({
    name: `20 connections racing gets/cas and incr on one key lose no increment (${name})`,
    ignore: !present,
    async fn() {
      await using server = await start();
      {
        using wire = await Wire.connect(server.port);
        assert.equal(await wire.call("set counter 0 0 1\r\n0\r\n"), "STORED\r\n");
      }
      const deadline = Date.now() + TIME_BOUND_MS;
      const tallies = await Promise.all(
        Array.from(
          { length: RACERS },
          (_, i) => i % 2 === 0 ? casLoop(server.port, deadline) : incrLoop(server.port, deadline),
        ),
      );
      const successes = tallies.reduce((sum, t) => sum + t.successes, 0);
      const beaten = tallies.reduce((sum, t) => sum + t.beaten, 0);
      using wire = await Wire.connect(server.port);
      const final = await wire.call("get counter\r\n", "END\r\n");
      assert.equal(final, `VALUE counter 0 ${String(successes).length}\r\n${successes}\r\nEND\r\n`);
      // Without a cas beaten now and then the connections did not race, and the test proved nothing.
      assert.ok(beaten > 0, "no cas was ever beaten");
      console.log(`${name}: ${successes} increments, ${beaten} cas beaten by another connection`);
    },
  });
}
