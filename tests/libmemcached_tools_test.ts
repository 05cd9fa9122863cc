/**
 * libmemcached's command-line tools (Debian's libmemcached-tools: memccapable,
 * memccp, memccat, memcstat) pointed at our server. Each scenario also runs
 * against Debian's memcached, so a failure shows whether memcached itself
 * behaves that way.
 */

import assert from "node:assert/strict";
import { hasLibmemcachedTool, hasMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer, startReference } from "./_servers.ts";

const decoder = new TextDecoder();

const TARGETS: [string, () => Promise<ServerProcess>, () => boolean][] = [
  ["our server", startOurServer, () => true],
  ["Debian's memcached", startReference, hasMemcached],
];

/** The ASCII tests of memccapable (libmemcached 1.1.4), in the order it runs them. */
const CAPABLE_ASCII_TESTS = [
  "version",
  "quit",
  "verbosity",
  "set",
  "set noreply",
  "get",
  "gets",
  "mget",
  "flush",
  "flush noreply",
  "add",
  "add noreply",
  "replace",
  "replace noreply",
  "cas",
  "cas noreply",
  "delete",
  "delete noreply",
  "incr",
  "incr noreply",
  "decr",
  "decr noreply",
  "append",
  "append noreply",
  "prepend",
  "prepend noreply",
  "stat",
];

/** Runs a tool, killed after `timeoutMs` so a hung exchange fails instead of hanging the run. */
async function run(
  command: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string; bytes: Uint8Array }> {
  const out = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    bytes: out.stdout,
  };
}

function report(out: { code: number; stdout: string; stderr: string }): string {
  return `exit ${out.code}\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`;
}

for (const [name, start, present] of TARGETS) {
  // One server for all three: memccapable flushes it, so it runs last.
  Deno.test({
    name: `libmemcached's tools work against ${name}`,
    ignore: !hasLibmemcachedTool("memccapable") || !present(),
    async fn(t) {
      await using server = await start();
      const servers = `--servers=127.0.0.1:${server.port}`;

      await t.step("memcstat prints its stats", async () => {
        const dir = await Deno.makeTempDir({ prefix: "memcstat_test_" });
        try {
          await Deno.writeTextFile(`${dir}/one`, "1");
          await Deno.writeTextFile(`${dir}/two`, "22");
          assert.equal((await run("memccp", [servers, `${dir}/one`, `${dir}/two`])).code, 0);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
        const out = await run("memcstat", [servers]);
        assert.equal(out.code, 0, report(out));
        const lines = out.stdout.split("\n");
        assert.equal(lines[0], `Server: 127.0.0.1 (${server.port})`, report(out));
        const stats = new Map(
          lines.slice(1).filter((l) => l.startsWith("\t")).map((l) => {
            const at = l.indexOf(": ");
            return [l.slice(1, at), l.slice(at + 2)] as const;
          }),
        );
        for (
          const stat of [
            "pid",
            "uptime",
            "time",
            "version",
            "pointer_size",
            "curr_connections",
            "total_connections",
            "cmd_get",
            "cmd_set",
            "get_hits",
            "get_misses",
            "bytes",
            "curr_items",
            "total_items",
            "evictions",
            "limit_maxbytes",
            "threads",
          ]
        ) {
          assert.ok(stats.has(stat), `memcstat shows no ${stat}:\n${out.stdout}`);
        }
        assert.equal(stats.get("curr_items"), "2");
        assert.equal(stats.get("total_items"), "2");
        assert.equal(stats.get("cmd_set"), "2");
        assert.equal(stats.get("limit_maxbytes"), String(64 * 1024 * 1024));
        assert.match(stats.get("threads") ?? "", /^[1-9]\d*$/);
        assert.match(stats.get("version") ?? "", /^\d+\.\d+\.\d+/);
        assert.equal(stats.get("pid"), String(server.process.pid));
      });

      await t.step(
        "memccp copies files in and memccat reads them back byte-identical",
        async () => {
          const dir = await Deno.makeTempDir({ prefix: "memccp_test_" });
          try {
            // Random bytes of a deterministic generator: every byte value, CR/LF
            // and "END\r\n" inside the data, and 300 kB to span many reads.
            let seed = 0x2545f491;
            const random = Uint8Array.from({ length: 300_000 }, () => {
              seed ^= seed << 13;
              seed ^= seed >>> 17;
              seed ^= seed << 5;
              return seed & 0xff;
            });
            const files: Record<string, Uint8Array> = {
              "random.bin": random,
              "all_bytes.bin": Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff),
              "lines.txt": new TextEncoder().encode("VALUE x 0 3\r\nEND\r\nhello\n"),
              "empty": new Uint8Array(0),
            };
            for (const [file, bytes] of Object.entries(files)) {
              await Deno.writeFile(`${dir}/${file}`, bytes);
            }

            const copied = await run("memccp", [
              servers,
              "--flags=42",
              ...Object.keys(files).map((f) => `${dir}/${f}`),
            ]);
            assert.equal(copied.code, 0, report(copied));

            for (const [file, bytes] of Object.entries(files)) {
              const back = `${dir}/${file}.back`;
              const cat = await run("memccat", [servers, `--file=${back}`, file]);
              assert.equal(cat.code, 0, `${file}: ${report(cat)}`);
              assert.deepEqual(await Deno.readFile(back), bytes, `${file} came back changed`);
            }
            // To stdout memccat prints the value and a newline; -F puts the flags first.
            const shown = await run("memccat", [servers, "-F", "lines.txt"]);
            assert.equal(shown.stdout, "42\nVALUE x 0 3\r\nEND\r\nhello\n\n", report(shown));
            const missing = await run("memccat", [servers, "no_such_file"]);
            assert.notEqual(missing.code, 0, report(missing));
            assert.equal(missing.stdout, "");
          } finally {
            await Deno.remove(dir, { recursive: true });
          }
        },
      );

      await t.step("memccapable -a passes every ASCII test", async () => {
        const out = await run("memccapable", [
          "-a",
          "-t",
          "2",
          "-h",
          "127.0.0.1",
          "-p",
          `${server.port}`,
        ]);
        const lines = out.stdout.trim().split("\n").map((l) => l.trim());
        assert.ok(!/FAIL/i.test(out.stdout + out.stderr), report(out));
        assert.deepEqual(
          lines,
          [
            ...CAPABLE_ASCII_TESTS.map((name) => `ascii ${name}`.padEnd(40) + "[pass]"),
            "All tests passed",
          ],
          report(out),
        );
        assert.equal(out.code, 0, report(out));
      });
    },
  });
}
