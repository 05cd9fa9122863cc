/**
 * Runs a server's command line to its exit, ours (server/mod.ts, as a user
 * runs it) or Debian's memcached, for tests that compare what they print.
 *
 * @module
 */

import { ourServerArgs } from "./_layer.ts";
import { freePort } from "./_peers.ts";

const decoder = new TextDecoder();

/** What a command line printed and how it exited. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** How long a command line that should exit may run: one that serves instead fails the test. */
const EXIT_TIMEOUT_MS = 20_000;

/** Runs a command to its exit, or fails once it has run EXIT_TIMEOUT_MS (a server that started serving). */
async function runToExit(command: string, args: string[]): Promise<Run> {
  const child = new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, EXIT_TIMEOUT_MS);
  try {
    const out = await child.output();
    if (timedOut) {
      throw new Error(`${command} ${args.join(" ")} did not exit within ${EXIT_TIMEOUT_MS} ms`);
    }
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs our server's command line with `args` until it exits. */
export function runOurs(args: string[]): Promise<Run> {
  return runToExit(Deno.execPath(), ourServerArgs(...args));
}

/** Runs Debian's memcached with `args` (and `-u root` when root) until it exits. */
export function runMemcached(args: string[]): Promise<Run> {
  return runToExit("memcached", [...(Deno.uid() === 0 ? ["-u", "root"] : []), ...args]);
}

/** What a command line did: exited (with what it printed), or started serving. */
export type Outcome = Run | "serves";

/** How long a command line may take to either exit or listen. */
const START_TIMEOUT_MS = 15_000;

/**
 * Starts ours or memcached on a free loopback port with `args` after the
 * port flags, and tells whether it exits (and with what) or serves; a
 * server that serves is stopped again.
 */
export async function startOrExit(which: "ours" | "memcached", args: string[]): Promise<Outcome> {
  const port = freePort();
  const base = ["-U", "0", "-l", "127.0.0.1", "-p", String(port), ...args];
  const child = which === "ours"
    ? new Deno.Command(Deno.execPath(), {
      args: ourServerArgs(...base),
      stdout: "piped",
      stderr: "piped",
    }).spawn()
    : new Deno.Command("memcached", {
      args: [...(Deno.uid() === 0 ? ["-u", "root"] : []), ...base],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const output = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  child.status.then(() => exited = true);
  while (!exited && Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      child.kill("SIGTERM");
      await child.status;
      await output;
      return "serves";
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  if (!exited) {
    child.kill("SIGKILL");
    await child.status;
    await output;
    throw new Error(`${which} ${args.join(" ")} neither exited nor listened`);
  }
  const [stdout, stderr] = await output;
  return { code: (await child.status).code, stdout, stderr };
}
