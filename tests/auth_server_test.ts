/**
 * ASCII authentication (`-Y`) of our server beyond the wire transcripts: the
 * CLI's errors for an auth file it cannot load (memcached's messages and exit
 * code), rereading the file on SIGHUP and through `reload()`, and the
 * permission it needs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LAYER_ARGS, serve } from "./_layer.ts";
import { freePort } from "./_peers.ts";
import { startOurServer, tempFiles } from "./_servers.ts";
import { Wire } from "./_wire.ts";

const ENTRY = new URL("../server/mod.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

async function run(permissions: string[], args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, ENTRY, ...LAYER_ARGS, "-p", String(freePort()), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The reply to an auth request for `user password` on a new connection. */
async function authenticate(port: number, user: string, password: string): Promise<string> {
  using wire = await Wire.connect(port);
  const data = `${user} ${password}`;
  await wire.send(`set auth 0 0 ${data.length}\r\n${data}\r\n`);
  return await wire.readUntil("\r\n");
}

Deno.test("CLI -Y with a file it cannot open exits 1 with memcached's message", async () => {
  await using files = await tempFiles({});
  const { code, stderr } = await run(["-A"], ["-Y", files.path("missing")]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    `Could not open authfile [${
      files.path("missing")
    }] for reading, error No such file or directory\n`,
  );
});

Deno.test("CLI -Y with a malformed file exits 1 with memcached's message and the line", async () => {
  await using files = await tempFiles({ users: "alice:secret\n\n" });
  const { code, stderr } = await run(["-A"], ["--auth-file", files.path("users")]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    `Authfile [${files.path("users")}] has a malformed entry. Should be 'user:password' (line 2)\n`,
  );
});

Deno.test("CLI -Y without --allow-read exits 1 and says to allow reading the file", async () => {
  await using files = await tempFiles({ users: "alice:secret\n" });
  const { code, stderr } = await run(["--allow-net"], ["-Y", files.path("users")]);
  assert.equal(code, 1);
  assert.ok(stderr.startsWith(`Could not open authfile [${files.path("users")}] for reading`));
  assert.ok(stderr.includes("--allow-read"), stderr);
});

Deno.test("CLI -h lists -Y and the --allow-read it needs", async () => {
  const { code, stdout } = await run(["--allow-net"], ["-h"]);
  assert.equal(code, 0);
  const line = stdout.split("\n").findIndex((l) => l.startsWith("-Y, --auth-file=<file>"));
  assert.ok(line >= 0, stdout);
  assert.ok(stdout.split("\n").slice(line, line + 2).join(" ").includes("--allow-read"));
});

Deno.test("SIGHUP rereads the auth file without stopping the server; a bad file keeps the old users", async () => {
  await using files = await tempFiles({ users: "alice:secret\n" });
  await using server = await startOurServer(["-Y", files.path("users")]);
  using authenticated = await Wire.connect(server.port);
  await authenticated.send("set auth 0 0 12\r\nalice secret\r\n");
  assert.equal(await authenticated.readUntil("\r\n"), "STORED\r\n");

  await files.write("users", "carol:new\n");
  server.process.kill("SIGHUP");
  let reply = "";
  for (let i = 0; i < 100 && reply !== "STORED\r\n"; i++) {
    await new Promise((r) => setTimeout(r, 20));
    reply = await authenticate(server.port, "carol", "new");
  }
  assert.equal(reply, "STORED\r\n");
  assert.equal(
    await authenticate(server.port, "alice", "secret"),
    "CLIENT_ERROR authentication failure\r\n",
  );
  // A connection that authenticated before stays authenticated.
  await authenticated.send("version\r\n");
  assert.equal(await authenticated.readUntil("\r\n"), "VERSION 1.6.18\r\n");

  await files.write("users", "carol:new\nbroken\n");
  server.process.kill("SIGHUP");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await authenticate(server.port, "carol", "new"), "STORED\r\n");
});

Deno.test("reload() applies the reread users to connections not yet authenticated", async () => {
  await using files = await tempFiles({ users: "alice:secret\n" });
  await using server = serve({ port: 0, authFile: files.path("users") });
  using waiting = await Wire.connect(server.addr.port);
  await waiting.send("version\r\n");
  assert.equal(await waiting.readUntil("\r\n"), "CLIENT_ERROR unauthenticated\r\n");

  await files.write("users", "bob:hunter2\n");
  await server.reload();
  await waiting.send("set auth 0 0 12\r\nalice secret\r\nset auth 0 0 11\r\nbob hunter2\r\n");
  assert.equal(await waiting.readUntil("STORED\r\n"), "STORED\r\n");

  await Deno.remove(files.path("users"));
  await assert.rejects(() => server.reload(), /Could not open authfile/);
  assert.equal(await authenticate(server.addr.port, "bob", "hunter2"), "STORED\r\n");
});

Deno.test("a server without -Y needs no authentication and reload() does nothing", async () => {
  await using server = serve({ port: 0 });
  await server.reload();
  using wire = await Wire.connect(server.addr.port);
  await wire.send("version\r\n");
  assert.equal(await wire.readUntil("\r\n"), "VERSION 1.6.18\r\n");
});
