/**
 * Test helpers for Debian peers (memcached, the python clients, libmemcached's
 * tools). A test that needs a peer skips with a clear message on a machine
 * without it, and fails instead when `CI` is set, since `.ci/run` installs
 * every peer.
 *
 * @module
 */

/** The python that Debian's python3-memcache, -pymemcache and -pylibmc belong to. */
export const DEBIAN_PYTHON = "/usr/bin/python3";

const found = new Map<string, boolean>();

function runs(command: string, args: string[]): boolean {
  try {
    const out = new Deno.Command(command, { args, stdout: "null", stderr: "null" }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Whether a peer is present, given the command that proves it. In CI a
 * missing peer throws, so the test that asked fails instead of skipping.
 */
export function hasPeer(name: string, command: string, args: string[]): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = runs(command, args);
    found.set(name, ok);
  }
  if (!ok) {
    if (Deno.env.get("CI")) {
      throw new Error(`Cannot run the test: peer "${name}" is missing in CI (.ci/run installs it)`);
    }
    console.warn(`skipped: peer "${name}" is not installed (apt-get install ${name})`);
  }
  return ok;
}

/** Debian's memcached 1.6 binary is on PATH. */
export function hasMemcached(): boolean {
  return hasPeer("memcached", "memcached", ["-V"]);
}

/** A python module of Debian's (`memcache`, `pymemcache`, `pylibmc`) imports under /usr/bin/python3. */
export function hasPythonModule(module: string): boolean {
  const pkg =
    { memcache: "python3-memcache", pymemcache: "python3-pymemcache", pylibmc: "python3-pylibmc" }[
      module
    ] ?? module;
  return hasPeer(pkg, DEBIAN_PYTHON, ["-c", `import ${module}`]);
}

/** One of libmemcached's tools as Debian names them (memccp, memccat, memcstat, memccapable, memcaslap). */
export function hasLibmemcachedTool(tool: string): boolean {
  return hasPeer("libmemcached-tools", "sh", ["-c", `command -v ${tool}`]);
}

/** A port nobody listens on right now, for peers that cannot take port 0. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Whether the server accepting on `port` is process `pid`, by the pid its
 * `stats` reports: a free port can be taken by another test's server between
 * `freePort` and the bind. A server that shows no pid (`-Y`, TLS) is taken
 * at its word. Throws while nothing accepts.
 */
export async function servedBy(port: number, pid: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("stats\r\n"));
    const buf = new Uint8Array(64 * 1024);
    let text = "";
    const deadline = Date.now() + 2000;
    // A stats reply ends in END; a refusal (-Y) is one line.
    const whole = () =>
      text.endsWith("END\r\n") || (text.includes("\r\n") && !text.startsWith("STAT "));
    while (!whole() && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        conn.read(buf).catch(() => null),
        new Promise<null>((r) => timer = setTimeout(() => r(null), 200)),
      ]);
      clearTimeout(timer);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const shown = text.match(/^STAT pid (\d+)\r$/m);
    return shown === null || Number(shown[1]) === pid;
  } finally {
    conn.close();
  }
}

/** A running Debian memcached on a free loopback port; closed with `await using`. */
export interface MemcachedProcess extends AsyncDisposable {
  readonly port: number;
  readonly process: Deno.ChildProcess;
}

/**
 * Starts Debian's memcached on a free port with extra flags and waits until
 * it accepts; with `stderr: "piped"` its log can be read from the process.
 */
export async function startMemcached(
  args: string[] = [],
  options: { stderr?: "null" | "piped" } = {},
): Promise<MemcachedProcess> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    const process = new Deno.Command("memcached", {
      // memcached refuses to run as root without -u.
      args: [
        ...(Deno.uid() === 0 ? ["-u", "root"] : []),
        ...["-U", "0", "-l", "127.0.0.1", "-p", String(port), ...args],
      ],
      stdout: "null",
      stderr: options.stderr ?? "null",
    }).spawn();
    for (let i = 0; i < 200; i++) {
      try {
        if (!await servedBy(port, process.pid)) break;
        return {
          port,
          process,
          async [Symbol.asyncDispose]() {
            try {
              process.kill("SIGTERM");
            } catch { /* already gone */ }
            await process.status;
          },
        };
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    await process.status;
    if (options.stderr === "piped") await process.stderr.cancel();
  }
  throw new Error("Cannot start memcached: it never accepted a connection");
}
