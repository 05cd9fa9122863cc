/**
 * twemproxy (Debian's nutcracker) in front of three of our servers: clients
 * talk to the proxy unchanged, and it places each key where our
 * KetamaRouter would (hash md5, distribution ketama).
 */

import assert from "node:assert/strict";
import { Client, KetamaRouter } from "../client/mod.ts";
import { freePort, hasPeer } from "./_peers.ts";
import { startMany, startOurServer, stop } from "./_servers.ts";
import { Wire } from "./_wire.ts";

const KEYS = Array.from({ length: 1000 }, (_, i) => `key:${i}`);

Deno.test({
  name: "twemproxy in front of our servers places keys as KetamaRouter does",
  ignore: !hasPeer("nutcracker", "nutcracker", ["-V"]),
  async fn() {
    await using servers = await startMany(() => startOurServer(), 3);
    const weights = [1, 2, 1];
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const config = [
      "pool:",
      `  listen: 127.0.0.1:${port}`,
      "  hash: md5",
      "  distribution: ketama",
      "  timeout: 2000",
      "  servers:",
      ...servers.ports.map((p, i) => `    - 127.0.0.1:${p}:${weights[i]}`),
    ].join("\n");
    await Deno.writeTextFile(`${dir}/nutcracker.yml`, config + "\n");
    const proxy = new Deno.Command("nutcracker", {
      args: [
        ...[
          "-c",
          `${dir}/nutcracker.yml`,
          "-o",
          `${dir}/nutcracker.log`,
          "-p",
          `${dir}/nutcracker.pid`,
        ],
        ...["-s", String(freePort()), "-a", "127.0.0.1"],
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let ready = false;
      for (let i = 0; i < 250 && !ready; i++) {
        ready = await Deno.connect({ hostname: "127.0.0.1", port }).then(
          (c) => (c.close(), true),
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(ready, await Deno.readTextFile(`${dir}/nutcracker.log`).catch(() => "no log"));
      await using client = new Client([`127.0.0.1:${port}`]);
      for (const key of KEYS) assert.equal(await client.set(key, key), true);
      assert.deepEqual(
        await client.getMulti(KEYS.slice(0, 50)),
        Object.assign(
          Object.create(null),
          Object.fromEntries(KEYS.slice(0, 50).map((k) => [k, k])),
        ),
      );

      const router = new KetamaRouter(
        servers.ports.map((p, i) => ({ host: "127.0.0.1", port: p, weight: weights[i] })),
      );
      const encoder = new TextEncoder();
      for (const [index, serverPort] of servers.ports.entries()) {
        using wire = await Wire.connect(serverPort);
        const reply = await wire.call(`get ${KEYS.join(" ")}\r\n`, "END\r\n");
        const held = new Set([...reply.matchAll(/VALUE (\S+) /g)].map((m) => m[1]));
        const expected = KEYS.filter((k) => router.pick(encoder.encode(k), () => true) === index);
        assert.deepEqual([...held].sort(), expected.sort(), `server ${index}`);
      }
    } finally {
      await stop(proxy);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
