/**
 * `stats conns` with several clients, ours beside Debian's memcached: the
 * same numbers (memcached's file descriptors, a closed client's number
 * taken by the next), states and listen addresses, ports and seconds masked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HAS_MEMCACHED } from "./_differential.ts";
import { type ServerProcess, startOurServer, startReference } from "./_servers.ts";
import { Wire } from "./_wire.ts";

/** What `stats conns` shows after clients come and go, ports and seconds masked. */
async function conns(server: ServerProcess): Promise<string> {
  // The connection that saw the server listen must be gone, or its number is taken.
  await new Promise((r) => setTimeout(r, 300));
  const first = await Wire.connect(server.port);
  const second = await Wire.connect(server.port);
  const third = await Wire.connect(server.port);
  try {
    assert.equal(await third.call("version\r\n"), "VERSION 1.6.18\r\n");
    second[Symbol.dispose]();
    // memcached sees the close on its next event loop turn; give both a moment.
    await new Promise((r) => setTimeout(r, 200));
    using fourth = await Wire.connect(server.port);
    await new Promise((r) => setTimeout(r, 200));
    const reply = await first.call("stats conns\r\n", "END\r\n");
    void fourth;
    return reply.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
      .replace(/secs_since_last_cmd \d+/g, "secs_since_last_cmd <n>");
  } finally {
    first[Symbol.dispose]();
    third[Symbol.dispose]();
  }
}

Deno.test({
  name: "stats conns numbers clients as memcached's descriptors, reusing a closed one's",
  ignore: !HAS_MEMCACHED,
  async fn() {
    for (const threads of ["1", "4"]) {
      await using reference = await startReference(["-t", threads]);
      await using ours = await startOurServer(["-t", threads]);
      assert.equal(await conns(ours), await conns(reference), `-t ${threads}`);
    }
  },
});
