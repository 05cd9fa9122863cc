/**
 * The connection layer a test run exercises. A run with `--deny-ffi` serves
 * every in-process server on Deno.listen, and starts every server process
 * with `-o connection_layer=deno`, so the whole suite runs once on each
 * layer (`deno task test` runs both).
 *
 * @module
 */

/** The server's command line, as the tests start it. */
export const OUR_ENTRY = new URL("../server/mod.ts", import.meta.url).pathname;

const FFI_GRANTED = Deno.permissions.querySync({ name: "ffi" }).state === "granted";

/** The layer this run's servers use: epoll where FFI is granted (and the platform has it), else deno. */
export const TEST_LAYER: "epoll" | "deno" = FFI_GRANTED && Deno.build.os === "linux" &&
    Deno.build.arch === "x86_64"
  ? "epoll"
  : "deno";

/** Flags that put a server process on this run's layer: none on the default one. */
export const LAYER_ARGS: string[] = FFI_GRANTED ? [] : ["-o", "connection_layer=deno"];

/** `deno run -A` for our server with `args`, on this run's layer. */
export function ourServerArgs(...args: string[]): string[] {
  return ["run", "-A", OUR_ENTRY, ...LAYER_ARGS, ...args];
}
