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

import { AuthFileError } from "./_auth_file.ts";
import { parseCommandLine } from "./_cli.ts";
import { daemonize, notifyListening } from "./_daemon.ts";
import { openFileLimit } from "./_fd_limit.ts";
import { MEMCACHED_VERSION, PACKAGE_VERSION } from "./_version.ts";
import { type MemcacheServer, serve, type ServeOptions } from "./server.ts";
import { TlsCertificateError } from "./_tls.ts";
import { ConnectionLayerError } from "./_libc.ts";
import { WarmRestartError } from "./_warm_restart.ts";

export {
  type ConnectionLayer,
  type MemcacheServer,
  serve,
  type ServeOptions,
  type ServeTlsOptions,
  type Tunables,
} from "./server.ts";
export { type Clock, ManualClock, SystemClock } from "./clock.ts";
export { MEMCACHED_VERSION, PACKAGE_VERSION } from "./_version.ts";

/** Whether an address the server listens on is reachable only from this machine. */
function isLoopback(hostname: string): boolean {
  return /^127\./.test(hostname) || hostname === "::1" || hostname === "localhost";
}

/** memcached's line when a listener cannot be made, with the reason after it as perror adds it. */
function listenFailure(options: ServeOptions, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  const what = options.socketPath !== undefined
    ? `UNIX socket: ${options.socketPath}`
    : options.hostname === "127.0.0.1"
    ? `TCP port ${options.port}`
    : `one of interface(s) ${options.hostname}`;
  return error instanceof RangeError
    ? `${reason}\nfailed to listen on ${what}`
    : `failed to listen on ${what}: ${reason}`;
}

/** Starts the server the flags ask for, or prints why it cannot and gives memcached's exit code. */
async function start(options: ServeOptions): Promise<MemcacheServer | number> {
  // memcached sets its open file limit to -c and stops (EX_OSERR) when it cannot; Deno holds the most it can have.
  const fileLimit = openFileLimit();
  if (fileLimit !== undefined && (options.maxConnections ?? 1024) > fileLimit) {
    console.error(
      "failed to set rlimit for open files. Try starting as root or requesting smaller maxconns value.",
    );
    return 71;
  }
  let server: MemcacheServer;
  try {
    server = serve(options);
  } catch (error) {
    if (error instanceof TlsCertificateError || error instanceof ConnectionLayerError) {
      console.error(error.message);
      return 64;
    }
    if (error instanceof WarmRestartError) {
      console.error(error.message);
      return 64;
    }
    if (error instanceof AuthFileError) {
      // memcached's message and exit code (EXIT_FAILURE) for an auth file it cannot load.
      console.error(error.message);
      return 1;
    }
    console.error(listenFailure(options, error));
    return 71;
  }
  try {
    await server.ready;
  } catch (error) {
    console.error(listenFailure(options, error));
    return 71;
  }
  return server;
}

/** Runs the CLI: parse memcached's flags, serve until SIGINT, SIGTERM, SIGUSR1 or `shutdown`. */
async function main(args: string[]): Promise<number> {
  // First of all: from half a second after start Deno opens its inspector on SIGUSR1, whoever else
  // listens. memcached's graceful stop exits inside the handler, so no inspector outlives the signal.
  let onStop = () => {};
  const gracefulStop = () => {
    console.error("Gracefully stopping");
    onStop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGUSR1", gracefulStop);
  const action = parseCommandLine(args);
  if (action.kind === "exit") {
    if (action.stdout) await Deno.stdout.write(new TextEncoder().encode(action.stdout));
    if (action.stderr) await Deno.stderr.write(new TextEncoder().encode(action.stderr));
    return action.code;
  }
  const { options, pidFile } = action;
  if (action.warnings) await Deno.stderr.write(new TextEncoder().encode(action.warnings));
  if (action.threadsGiven && (options.threads ?? 4) > 1) {
    // Never a -t quietly ignored: the workers that would honour it need a store they can share.
    console.error(
      `-t ${options.threads}: this server answers on one thread; stats show ${options.threads}`,
    );
  }
  if (action.daemonArgs !== undefined) {
    return await daemonize(action.daemonArgs, (options.verbosity ?? 0) > 0);
  }
  // A stop asked for while the server starts is kept until it can be done, never the runtime's kill.
  let stopWanted = false;
  let stop = () => void (stopWanted = true);
  const onSignal = () => stop();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const server = await start(options);
  if (typeof server === "number") return server;
  if (pidFile !== undefined) {
    try {
      Deno.writeTextFileSync(pidFile, `${Deno.pid}\n`);
    } catch (error) {
      console.error(`Could not open the pid file ${pidFile} for writing: ${error}`);
    }
  }
  const removePidFile = () => {
    if (pidFile === undefined) return;
    try {
      Deno.removeSync(pidFile);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        console.error(`Could not remove the pid file ${pidFile}: ${error}`);
      }
    }
  };
  const where = [
    ...server.addrs.map((a) => `${a.hostname}:${a.port}`),
    ...options.socketPath === undefined ? [] : [`unix:${options.socketPath}`],
  ].join(", ");
  // Silent for scripts, as memcached is (-v too); a person at a terminal is told where it listens.
  if (Deno.stderr.isTerminal()) {
    console.error(
      `memcached ${MEMCACHED_VERSION} (@x/memcache ${PACKAGE_VERSION}) listening on ${where}`,
    );
  }
  // Client certificates that must verify, or passwords, close the door; without TLS passwords still cross in clear.
  const guarded = (options.tls?.verifyMode ?? 0) >= 2 || options.authFile !== undefined;
  const exposed = guarded ? [] : server.addrs.filter((a) => !isLoopback(a.hostname));
  if (exposed.length > 0) {
    console.error(
      `warning: listening on ${
        exposed.map((a) => `${a.hostname}:${a.port}`).join(", ")
      } beyond loopback with neither TLS nor authentication: anyone who reaches it can read and change the cache`,
    );
  }
  if (action.daemonChild) await notifyListening();
  stop = () => void server.close();
  if (stopWanted) stop();
  // close() writes the -e file before its first await, so the exit right after keeps it.
  onStop = () => {
    stop();
    removePidFile();
  };
  // As memcached: SIGHUP rereads the auth file and the certificates; what cannot be read keeps what was loaded.
  const reload = () =>
    void server.reload().catch((error) => {
      console.error(error instanceof Error ? error.message : String(error));
    });
  Deno.addSignalListener("SIGHUP", reload);
  await server.finished;
  if ((options.verbosity ?? 0) > 0) console.error("Exiting normally");
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  Deno.removeSignalListener("SIGHUP", reload);
  removePidFile();
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
