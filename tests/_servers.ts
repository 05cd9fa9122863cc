/**
 * Starts servers for process-level tests: ours (the CLI in server/mod.ts, as
 * a user runs it) and Debian's memcached, behind one shape.
 *
 * @module
 */

import { ourServerArgs } from "./_layer.ts";
import { freePort, servedBy, startMemcached } from "./_peers.ts";

/** A server process listening on 127.0.0.1:`port`; stopped by `await using`. */
export interface ServerProcess extends AsyncDisposable {
  readonly port: number;
  readonly process: Deno.ChildProcess;
  /** How the tests reach it, when not by plain TCP (a TLS server). */
  readonly dial?: (port: number) => Promise<Deno.Conn>;
}

async function waitForPort(port: number, process: Deno.ChildProcess): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    try {
      return await servedBy(port, process.pid);
    } catch {
      const exited = await Promise.race([
        process.status.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 20)),
      ]);
      if (exited) return false;
    }
  }
  return false;
}

/** Stops a server with SIGTERM, and SIGKILL if it has not exited within 10 s. */
export async function stop(process: Deno.ChildProcess): Promise<void> {
  try {
    process.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    process.status.then(() => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), 10_000)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    await process.status;
  }
}

/** How {@linkcode startOurServer} runs the process. */
export interface OurServerOptions {
  /** The port to listen on; a free one when not given. */
  port?: number;
  /** Its open file limit, set by `ulimit -n` before Deno starts; the process is Deno's still. */
  fileLimit?: number;
  /** Where its stderr goes: "piped" to read the log. */
  stderr?: "inherit" | "piped";
}

/**
 * Starts our server with memcached-style flags (`-m`, `-I`, `-M`, `-C`, ...)
 * on `options.port` (a free one when not given) and waits until it accepts.
 */
export async function startOurServer(
  args: string[] = [],
  options: OurServerOptions = {},
): Promise<ServerProcess> {
  // A port of the caller's is tried once; a free one again if another process took it first.
  for (let attempt = 0; attempt < (options.port === undefined ? 5 : 1); attempt++) {
    const at = options.port ?? freePort();
    const deno = [
      Deno.execPath(),
      ...ourServerArgs("-l", "127.0.0.1", "-p", String(at), ...args),
    ];
    const [command, ...commandArgs] = options.fileLimit === undefined
      ? deno
      : ["bash", "-c", `ulimit -n ${options.fileLimit} && exec "$@"`, "bash", ...deno];
    const process = new Deno.Command(command, {
      args: commandArgs,
      stdout: "null",
      stderr: options.stderr ?? "inherit",
    }).spawn();
    if (await waitForPort(at, process)) {
      return {
        port: at,
        process,
        async [Symbol.asyncDispose]() {
          await stop(process);
        },
      };
    }
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    await process.status;
    if (options.stderr === "piped") await process.stderr.cancel();
  }
  throw new Error("Cannot start our server: it never accepted a connection");
}

/** Starts Debian's memcached with the same flags, single-threaded as ours. */
export function startReference(args: string[] = []): Promise<ServerProcess> {
  return startMemcached(["-t", "1", ...args]);
}

/**
 * Sends `bytes` on a fresh connection, then reads until the server has been
 * quiet for `quietMs` (or closes), and returns everything it sent.
 */
export async function exchange(
  port: number,
  bytes: Uint8Array | Uint8Array[],
  quietMs = 150,
): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const parts = Array.isArray(bytes) ? bytes : [bytes];
    for (const part of parts) {
      for (let sent = 0; sent < part.length;) sent += await conn.write(part.subarray(sent));
      if (parts.length > 1) await new Promise((r) => setTimeout(r, 5));
    }
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const quiet = new Promise<"quiet">((r) => timer = setTimeout(() => r("quiet"), quietMs));
      const read = conn.read(buf).catch(() => null);
      const n = await Promise.race([read, quiet]);
      clearTimeout(timer);
      if (n === "quiet" || n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

/** Files for flags that take a path (`-Y <file>`), in a temporary directory removed by `await using`. */
export interface TempFiles extends AsyncDisposable {
  /** The path of the file written from `files[name]`. */
  path(name: string): string;
  /** Rewrites a file (before a SIGHUP, say). */
  write(name: string, text: string): Promise<void>;
  /** `args` with each `{name}` replaced by that file's path. */
  args(args: string[]): string[];
}

/** Writes each of `files` (name to text) into a new temporary directory. */
export async function tempFiles(files: Record<string, string>): Promise<TempFiles> {
  const dir = await Deno.makeTempDir();
  const path = (name: string) => `${dir}/${name}`;
  const write = (name: string, text: string) => Deno.writeTextFile(path(name), text);
  await Promise.all(Object.entries(files).map(([name, text]) => write(name, text)));
  return {
    path,
    write,
    args: (args) => args.map((arg) => arg.replace(/\{(\w+)\}/g, (_, name: string) => path(name))),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Starts `count` servers at once and stops them all at once (memcached takes ~1 s to stop). */
export async function startMany(
  start: () => Promise<ServerProcess>,
  count: number,
): Promise<{ ports: number[] } & AsyncDisposable> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => start()));
  const servers = started.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const stop = async () => {
    await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
  };
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { ports: servers.map((s) => s.port), [Symbol.asyncDispose]: stop };
}
