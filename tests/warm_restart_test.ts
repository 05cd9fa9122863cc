/**
 * Warm restart (`-e`) as a user runs it: 100k items survive a clean stop
 * (SIGTERM, SIGUSR1, `shutdown`) with the same cas and ttl; a killed
 * process, or a start with another `-m`, comes back empty. memcached's own
 * `-e` is checked beside ours on a few items.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hasMemcached, startMemcached } from "./_peers.ts";
import { startOurServer } from "./_servers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Sends `request` and reads until the reply ends with `MN\r\n` (10 s at most). */
async function roundTrip(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = enc.encode(`${request}mn\r\n`);
    const reading = (async () => {
      let text = "";
      const buf = new Uint8Array(256 * 1024);
      while (!text.endsWith("MN\r\n")) {
        const n = await conn.read(buf);
        if (n === null) throw new Error(`Cannot read the reply: closed after ${text.length} bytes`);
        text += dec.decode(buf.subarray(0, n));
      }
      return text;
    })();
    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error("Cannot read the reply: 10 s passed")), 10_000)
    );
    try {
      return await Promise.race([reading, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    conn.close();
  }
}

/** `mg <key> c t f v` for each key: cas, ttl, flags and value per line. */
async function read(port: number, keys: string[]): Promise<string[]> {
  const reply = await roundTrip(port, keys.map((k) => `mg ${k} k c t f v\r\n`).join(""));
  return reply.split("\r\n").slice(0, -2).reduce<string[]>((lines, line, i, all) => {
    if (line.startsWith("VA ")) lines.push(`${line.replace(/^VA \d+ /, "")} ${all[i + 1]}`);
    else if (line === "EN" || line.startsWith("EN ")) lines.push("EN");
    return lines;
  }, []);
}

/** The ttl in a `t` flag may differ by the seconds a restart takes; everything else must match. */
function sameItems(after: string[], before: string[], slack: number): void {
  assert.equal(after.length, before.length);
  for (let i = 0; i < before.length; i++) {
    const strip = (line: string) => line.replace(/ t(\d+)/, " t");
    assert.equal(strip(after[i]), strip(before[i]), `item ${i}`);
    const ttl = (line: string) => Number(/ t(-?\d+)/.exec(line)?.[1]);
    const [was, is] = [ttl(before[i]), ttl(after[i])];
    if (was >= 0) assert.ok(Math.abs(is - was) <= slack, `item ${i}: ttl ${was} then ${is}`);
  }
}

async function waitExit(process: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    process.status,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error("Cannot stop the server: 30 s passed")), 30_000)
    ),
  ]);
  clearTimeout(timer);
  return status;
}

const COUNT = 100_000;
const KEYS = Array.from({ length: COUNT }, (_, i) => `key:${i}`);

Deno.test("-e: 100k items come back after SIGTERM, SIGUSR1 and shutdown with the same cas and ttl", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/cache`;
  const args = ["-e", file, "-m", "64", "-A"];
  try {
    {
      await using server = await startOurServer(args, { stderr: "piped" });
      const sets = KEYS.map((k, i) =>
        `ms ${k} ${String(i).length} F${i % 7} T${i % 3 === 0 ? 0 : 3600 + i} q\r\n${i}\r\n`
      );
      for (let i = 0; i < COUNT; i += 10_000) {
        assert.equal(await roundTrip(server.port, sets.slice(i, i + 10_000).join("")), "MN\r\n");
      }
      server.process.kill("SIGTERM");
      assert.equal((await waitExit(server.process)).code, 0);
      await server.process.stderr.cancel();
    }
    let before: string[] | undefined;
    for (const stop of ["SIGUSR1", "shutdown", "SIGTERM"] as const) {
      await using server = await startOurServer(args, { stderr: "piped" });
      const now = await read(server.port, KEYS);
      assert.equal(now.length, COUNT);
      assert.equal(now.filter((l) => l === "EN").length, 0, `after the stop before ${stop}`);
      if (before !== undefined) sameItems(now, before, 30);
      before = now;
      if (stop === "shutdown") await roundTrip(server.port, "shutdown\r\n").catch(() => "");
      else server.process.kill(stop);
      assert.equal((await waitExit(server.process)).code, 0, stop);
      await server.process.stderr.cancel();
    }
    // Another -m starts empty, and the file is gone with it.
    {
      await using server = await startOurServer(["-e", file, "-m", "65"], { stderr: "piped" });
      assert.deepEqual(await read(server.port, KEYS.slice(0, 3)), ["EN", "EN", "EN"]);
      server.process.kill("SIGKILL");
      await waitExit(server.process);
      await server.process.stderr.cancel();
    }
    // A killed process wrote nothing: the next start is empty, not what the last clean stop saved.
    await using server = await startOurServer(args, { stderr: "piped" });
    assert.deepEqual(await read(server.port, KEYS.slice(0, 3)), ["EN", "EN", "EN"]);
    await roundTrip(server.port, "set a 0 0 1\r\nA\r\n");
    server.process.kill("SIGKILL");
    await waitExit(server.process);
    await server.process.stderr.cancel();
    {
      await using again = await startOurServer(args, { stderr: "piped" });
      assert.deepEqual(await read(again.port, ["a"]), ["EN"]);
      again.process.kill("SIGKILL");
      await waitExit(again.process);
      await again.process.stderr.cancel();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "-e: memcached's warm restart keeps cas and ttl as ours does",
  ignore: !hasMemcached(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const results: string[][] = [];
      for (const which of ["ours", "memcached"] as const) {
        const args = ["-e", `${dir}/${which}`, "-m", "64"];
        const start = () =>
          which === "ours" ? startOurServer(args, { stderr: "piped" }) : startMemcached(args);
        {
          await using first = await start();
          await roundTrip(
            first.port,
            "set a 3 0 1\r\nA\r\nset b 4 1000 2\r\nBB\r\nset a 5 0 2\r\nAA\r\n",
          );
          first.process.kill("SIGUSR1");
          await waitExit(first.process);
          if (which === "ours") await first.process.stderr.cancel();
        }
        // memcached refuses a restart within the second it stopped in.
        await new Promise((r) => setTimeout(r, 1100));
        await using second = await start();
        results.push(await read(second.port, ["a", "b", "c"]));
        if (which === "ours") {
          second.process.kill("SIGKILL");
          await second.process.stderr.cancel();
        }
      }
      const [ours, theirs] = results;
      assert.equal(theirs[0], "ka c3 t-1 f5 AA");
      sameItems(ours, theirs, 5);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
