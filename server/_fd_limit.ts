/**
 * The process's open file limit, read where Linux publishes it
 * (`/proc/self/limits`), since Deno has no getrlimit. Deno raises the soft
 * limit to the hard one when it starts, so the soft figure is the most the
 * server can ever hold.
 *
 * @module
 */

const LIMITS = "/proc/self/limits";

/**
 * The soft limit on open files ("Max open files").
 *
 * @returns The limit, or undefined when it is unlimited or cannot be known:
 *   not Linux, or no permission to read `/proc/self/limits` (which takes
 *   `--allow-all`).
 */
export function openFileLimit(): number | undefined {
  // Without read permission the limit is unknown, not an error: accepting still backs off on EMFILE.
  if (Deno.permissions.querySync({ name: "read", path: LIMITS }).state !== "granted") {
    return undefined;
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(LIMITS);
  } catch (error) {
    // Other systems have no /proc; there the limit is unknown.
    if (error instanceof Deno.errors.NotFound) return undefined;
    // Deno lets only --allow-all read /proc/self, whatever --allow-read says.
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
}
