/**
 * memcached's `-d`. Deno cannot fork, so the same command line is started
 * again in its own session, without `-d`; this process waits until that one
 * listens (it writes its `-P` pidfile first) and then exits, as a forking
 * daemon's parent does.
 *
 * @module
 */

/** How long the foreground process waits for the background one to listen. */
const READY_TIMEOUT_MS = 60_000;

/** The words the runtime was started with before the server's own arguments. */
function runtimeWords(): string[] {
  // Linux keeps the whole command line here; the runtime's flags are not otherwise visible.
  const words = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  if (words.at(-1) === "") words.pop();
  return words.slice(1, words.length - Deno.args.length);
}

/**
 * Starts `args` in the background and waits for it to listen.
 *
 * @param args The server's arguments for the background process.
 * @param verbose Whether the background process keeps this one's stderr (memcached's -d -v does).
 * @returns The exit code for this process: 0 once the other listens, else why not.
 */
export async function daemonize(args: string[], verbose: boolean): Promise<number> {
  let words: string[];
  try {
    words = runtimeWords();
  } catch (error) {
    console.error(
      `Cannot run as a daemon (-d): reading /proc/self/cmdline failed (${error}); ` +
        "grant --allow-read=/proc/self/cmdline, or run under a service manager without -d",
    );
    return 71;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [...words, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: verbose ? "inherit" : "null",
    detached: true,
  }).spawn();
  const reader = child.stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), READY_TIMEOUT_MS);
  });
  // The background process writes one line once it listens and closes its stdout.
  const ready = reader.read().then((r) => r.done ? "closed" as const : "ready" as const);
  const outcome = await Promise.race([ready, timeout]);
  clearTimeout(timer);
  reader.releaseLock();
  if (outcome === "ready") {
    child.unref();
    return 0;
  }
  if (outcome === "timeout") {
    console.error(`The server started with -d did not listen within ${READY_TIMEOUT_MS} ms`);
    child.kill("SIGTERM");
  }
  const status = await child.status;
  if (!verbose) {
    console.error(
      `The server started with -d stopped before listening (exit code ${status.code}); ` +
        "run it without -d, or with -v, to see why",
    );
  }
  return status.code === 0 ? 1 : status.code;
}

/** In the background process: tells the foreground one that the server listens. */
export async function notifyListening(): Promise<void> {
  await Deno.stdout.write(new TextEncoder().encode("listening\n"));
  Deno.stdout.close();
}
