/**
 * The @x/memcache server: a memcached-compatible cache server on
 * `Deno.listen`, speaking memcached's text protocol byte for byte, with an
 * LRU store bounded by a memory limit, lazy expiry, cas and stats.
 *
 * Run it as memcached, with memcached's flags:
 *
 * ```sh
 * deno run -A jsr:@x/memcache/server -p 11211 -m 64
 * ```
 *
 * or start it from code with {@linkcode serve}.
 *
 * @example Serving from code
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client } from "@x/memcache/client";
 * import { serve } from "@x/memcache/server";
 *
 * await using server = serve({ port: 0 });
 * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
 * await client.set("greeting", "hello");
 * assert.equal(await client.get("greeting"), "hello");
 * ```
 *
 * @module
 */

import { parseCommandLine } from "./_cli.ts";
import { MEMCACHED_VERSION, PACKAGE_VERSION } from "./_version.ts";
import { serve } from "./server.ts";

export { type MemcacheServer, serve, type ServeOptions } from "./server.ts";
export { type Clock, ManualClock, SystemClock } from "./clock.ts";
export { MEMCACHED_VERSION, PACKAGE_VERSION } from "./_version.ts";

/** Whether an address the server listens on is reachable only from this machine. */
function isLoopback(hostname: string): boolean {
  return /^127\./.test(hostname) || hostname === "::1" || hostname === "localhost";
}

/** Runs the CLI: parse memcached's flags, serve until SIGINT, SIGTERM or `shutdown`. */
async function main(args: string[]): Promise<number> {
  const action = parseCommandLine(args);
  if (action.kind === "exit") {
    if (action.stdout) await Deno.stdout.write(new TextEncoder().encode(action.stdout));
    if (action.stderr) await Deno.stderr.write(new TextEncoder().encode(action.stderr));
    return action.code;
  }
  let server;
  try {
    server = serve({ ...action.options });
  } catch (error) {
    const where = `${action.options.hostname}:${action.options.port}`;
    console.error(
      `failed to listen on ${where}: ${error instanceof Error ? error.message : error}`,
    );
    return 71;
  }
  if (action.pidFile !== undefined) {
    try {
      Deno.writeTextFileSync(action.pidFile, `${Deno.pid}\n`);
    } catch (error) {
      console.error(`Could not open the pid file ${action.pidFile} for writing: ${error}`);
    }
  }
  const where = server.addrs.map((a) => `${a.hostname}:${a.port}`).join(", ");
  // Silent for scripts, as memcached is; a person at a terminal is told where it listens.
  if ((action.options.verbosity ?? 0) > 0 || Deno.stderr.isTerminal()) {
    console.error(
      `memcached ${MEMCACHED_VERSION} (@x/memcache ${PACKAGE_VERSION}) listening on ${where}`,
    );
  }
  const exposed = server.addrs.filter((a) => !isLoopback(a.hostname));
  if (exposed.length > 0) {
    console.error(
      `warning: listening on ${
        exposed.map((a) => `${a.hostname}:${a.port}`).join(", ")
      } beyond loopback with neither TLS nor authentication: anyone who reaches it can read and change the cache`,
    );
  }
  const stop = () => void server.close();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  if (action.pidFile !== undefined) {
    try {
      Deno.removeSync(action.pidFile);
    } catch { /* already gone */ }
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
