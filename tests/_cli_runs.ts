/**
 * Runs a server's command line to its exit, ours (server/mod.ts, as a user
 * runs it) or Debian's memcached, for tests that compare what they print.
 *
 * @module
 */

const ENTRY = new URL("../server/mod.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** What a command line printed and how it exited. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs our server's command line with `args` until it exits. */
export async function runOurs(args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ENTRY, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs Debian's memcached with `args` (and `-u root` when root) until it exits. */
export async function runMemcached(args: string[]): Promise<Run> {
  const out = await new Deno.Command("memcached", {
    args: [...(Deno.uid() === 0 ? ["-u", "root"] : []), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}
