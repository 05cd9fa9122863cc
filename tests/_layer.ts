/**
 * The connection layer a test run exercises: epoll where this platform and
 * FFI allow it, or Deno.listen when `MEMCACHE_TEST_LAYER=deno` is set.
 * In-process servers take it from {@linkcode serve} here and server
 * processes from {@linkcode ourServerArgs}, so the whole suite runs once on
 * each layer (`deno task test` runs both).
 *
 * @module
 */

import { serve as serveAnyLayer, type ServeOptions } from "../server/mod.ts";

/** The server's command line, as the tests start it. */
export const OUR_ENTRY = new URL("../server/mod.ts", import.meta.url).pathname;

const EPOLL_POSSIBLE = Deno.build.os === "linux" && Deno.build.arch === "x86_64" &&
  Deno.permissions.querySync({ name: "ffi" }).state === "granted";

/** The layer this run's servers use. */
export const TEST_LAYER: "epoll" | "deno" =
  Deno.env.get("MEMCACHE_TEST_LAYER") === "deno" || !EPOLL_POSSIBLE ? "deno" : "epoll";

/**
 * Flags that put a server process on this run's layer: none for epoll, the default of a
 * process run with `-A` (so a test that withholds a permission sees the server as users do).
 */
export const LAYER_ARGS: string[] = TEST_LAYER === "epoll" ? [] : ["-o", "connection_layer=deno"];

/** `deno run -A` for our server with `args`, on this run's layer. */
export function ourServerArgs(...args: string[]): string[] {
  return ["run", "-A", OUR_ENTRY, ...LAYER_ARGS, ...args];
}

/** The library's `serve`, on this run's layer unless `options` names one. */
export function serve(options?: ServeOptions): ReturnType<typeof serveAnyLayer> {
  return serveAnyLayer({ connectionLayer: TEST_LAYER, ...options });
}
