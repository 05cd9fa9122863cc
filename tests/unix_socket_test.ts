/**
 * Unix sockets (`-s`, `-a`): the mask sets the socket file's mode as
 * memcached's does, TCP is off, `stats settings` and `stats conns` name the
 * socket as memcached does, and python-memcached (`unix:/path`), pymemcache
 * and our client work over it.
 *
 * @module
 */

import { ourServerArgs } from "./_layer.ts";
import assert from "node:assert/strict";
import { Client } from "../client/mod.ts";
import { DEBIAN_PYTHON, freePort, hasMemcached, hasPythonModule } from "./_peers.ts";
import { stop } from "./_servers.ts";
import { runOurs } from "./_cli_runs.ts";

/** A server process on a unix socket; stopped with `await using`. */
interface SocketServer extends AsyncDisposable {
  path: string;
}

/** Starts ours or memcached with `-s <dir>/<name>.sock` and more flags, and waits for the socket. */
async function startOnSocket(
  which: "ours" | "memcached",
  dir: string,
  args: string[],
): Promise<SocketServer> {
  const path = `${dir}/${which[0]}.sock`;
  const flags = ["-s", path, ...args];
  const process = which === "ours"
    ? new Deno.Command(Deno.execPath(), { args: ourServerArgs(...flags), stderr: "inherit" })
      .spawn()
    : new Deno.Command("memcached", {
      args: [...(Deno.uid() === 0 ? ["-u", "root"] : []), "-U", "0", ...flags],
      stderr: "inherit",
    }).spawn();
  for (let i = 0; i < 500; i++) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return { path, [Symbol.asyncDispose]: () => stop(process) };
    } catch (error) {
      if (
        !(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused)
      ) {
        await stop(process);
        throw error;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await stop(process);
  throw new Error(`Cannot start ${which}: nothing listens on ${path}`);
}

/** Sends `text` on a fresh connection to the socket and reads until the reply ends with `end`. */
async function call(path: string, text: string, end = "END\r\n"): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(text));
    let reply = "";
    const buf = new Uint8Array(64 * 1024);
    while (!reply.endsWith(end)) {
      const n = await conn.read(buf);
      if (n === null) break;
      reply += new TextDecoder().decode(buf.subarray(0, n));
    }
    return reply;
  } finally {
    conn.close();
  }
}

/**
 * `stats conns` with the socket's directory and memcached's file descriptor numbers as
 * placeholders, and an idle time of at most a second as `<=1`: the one-second clock may tick
 * between the listener's start and the request, however quick.
 */
function normalizeConns(reply: string, dir: string, name: string): string {
  const ids = new Map<string, string>();
  return reply.replaceAll(`${dir}/${name[0]}.sock`, "<socket>").replace(
    /^STAT (\d+):/gm,
    (_, id: string) => {
      if (!ids.has(id)) ids.set(id, `<${ids.size + 1}>`);
      return `STAT ${ids.get(id)}:`;
    },
  ).replace(/:secs_since_last_cmd [01]\r\n/g, ":secs_since_last_cmd <=1\r\n");
}

/**
 * `stats conns` once no connection in it is still closing: memcached finishes a close on its
 * worker thread, so the connection before this one may still be listed as `conn_closed`.
 */
async function settledConns(path: string): Promise<string> {
  let conns = await call(path, "stats conns\r\n");
  for (let i = 0; i < 50 && conns.includes(":state conn_closed\r\n"); i++) {
    await new Promise((r) => setTimeout(r, 20));
    conns = await call(path, "stats conns\r\n");
  }
  return conns;
}

/**
 * A directory with a short path: memcached reads a listening socket's name
 * into a sockaddr_in6, so `stats conns` shows only its first 26 bytes.
 */
async function shortDir(): Promise<string> {
  const dir = `/tmp/mc-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(dir);
  return dir;
}

Deno.test("-s serves on a unix socket whose mode -a sets, with TCP off, as memcached does", async () => {
  const dir = await shortDir();
  try {
    const port = freePort();
    const kinds = hasMemcached() ? ["ours", "memcached"] as const : ["ours"] as const;
    const seen: Record<string, unknown>[] = [];
    for (const which of kinds) {
      await using server = await startOnSocket(which, dir, ["-a", "0766", "-p", String(port)]);
      const settings = await call(server.path, "stats settings\r\n");
      const conns = await settledConns(server.path);
      await assert.rejects(
        Deno.connect({ hostname: "127.0.0.1", port }),
        Deno.errors.ConnectionRefused,
        `${which} listens on TCP beside its socket`,
      );
      seen.push({
        mode: ((await Deno.lstat(server.path)).mode ?? 0) & 0o777,
        domainSocket: / domain_socket (\S+)\r\n/.exec(settings)?.[1].replace(dir, "<dir>"),
        umask: / umask (\S+)\r\n/.exec(settings)?.[1],
        conns: normalizeConns(conns, dir, which),
      });
    }
    const ours = seen[0];
    assert.deepEqual(ours, {
      mode: 0o766,
      domainSocket: "<dir>/o.sock",
      umask: "766",
      conns: "STAT <1>:addr unix:<socket>\r\nSTAT <1>:state conn_listening\r\n" +
        "STAT <1>:secs_since_last_cmd <=1\r\nSTAT <2>:addr ?:<AF 0>\r\n" +
        "STAT <2>:listen_addr unix:<socket>\r\nSTAT <2>:state conn_parse_cmd\r\n" +
        "STAT <2>:secs_since_last_cmd <=1\r\nEND\r\n",
    });
    if (seen.length > 1) {
      assert.deepEqual(seen[1], { ...ours, domainSocket: "<dir>/m.sock" });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("python-memcached (unix:/path), pymemcache and our client work over the socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = await startOnSocket("ours", dir, []);
    await using client = new Client([`unix:${server.path}`]);
    assert.equal(await client.set("from-deno", "hello"), true);
    if (hasPythonModule("memcache")) {
      const script = `
import memcache, sys
client = memcache.Client(["unix:" + sys.argv[1]])
assert client.set("from-python-memcached", "hej")
print(client.get("from-deno"))
`;
      const out = await new Deno.Command(DEBIAN_PYTHON, { args: ["-c", script, server.path] })
        .output();
      assert.equal(new TextDecoder().decode(out.stderr), "");
      assert.equal(new TextDecoder().decode(out.stdout), "hello\n");
      assert.equal(await client.get("from-python-memcached"), "hej");
    }
    if (hasPythonModule("pymemcache")) {
      const script = `
import sys
from pymemcache.client.base import Client
client = Client(sys.argv[1])
client.set("from-pymemcache", b"hola")
print(client.get("from-deno").decode())
`;
      const out = await new Deno.Command(DEBIAN_PYTHON, { args: ["-c", script, server.path] })
        .output();
      assert.equal(new TextDecoder().decode(out.stderr), "");
      assert.equal(new TextDecoder().decode(out.stdout), "hello\n");
      assert.deepEqual(await client.get("from-pymemcache"), new TextEncoder().encode("hola"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-s replaces a socket file left behind, and refuses a path that holds any other file", async () => {
  const dir = await shortDir();
  try {
    const stale = Deno.listen({ transport: "unix", path: `${dir}/o.sock` });
    stale.close();
    {
      await using server = await startOnSocket("ours", dir, []);
      assert.equal(await call(server.path, "version\r\n", "\r\n"), "VERSION 1.6.18\r\n");
    }
    await Deno.writeTextFile(`${dir}/o.sock`, "not a socket\n");
    const run = await runOurs(["-s", `${dir}/o.sock`]);
    assert.equal(run.code, 71);
    assert.match(run.stderr, /^failed to listen on UNIX socket: \S+\/o\.sock: /);
    assert.equal(await Deno.readTextFile(`${dir}/o.sock`), "not a socket\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
