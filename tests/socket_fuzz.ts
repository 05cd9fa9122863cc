/**
 * The long form of the socket-level differential fuzz (`_socket_fuzz.ts`):
 * runs many seeds against Debian's memcached and our server, prints progress,
 * and stops at the first mismatch with its seed, request bytes and both
 * replies, shrunk to fewer commands.
 *
 * ```sh
 * deno run -A tests/socket_fuzz.ts --seeds=2000 [--from=1] [--no-shrink]
 * ```
 *
 * A failing seed reproduces with `--from=<seed> --seeds=1`. The suite runs a
 * fixed few of these seeds in `socket_fuzz_test.ts`.
 *
 * @module
 */

import { describe, fuzz, startPair } from "./_socket_fuzz.ts";

function option(name: string, fallback: number): number {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot run the fuzz: --${name} must be a whole number, got "${arg}"`);
  }
  return value;
}

if (import.meta.main) {
  const count = option("seeds", 200);
  const from = option("from", 1);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  let next = from;
  let done = 0;
  let mismatch;
  while (next < from + count && mismatch === undefined) {
    await using pair = await startPair();
    const seeds = Array.from({ length: from + count - next }, (_, i) => next + i);
    try {
      mismatch = await fuzz(pair, seeds, {
        shrink: !Deno.args.includes("--no-shrink"),
        onSeed(seed) {
          next = seed + 1;
          if (++done % 100 === 0 || done === count) {
            console.log(`${done}/${count} seeds (up to ${seed}) in ${elapsed()}`);
          }
        },
      });
      break;
    } catch (error) {
      // A server that died (or was killed) is restarted, and the run goes on after its seed.
      console.log(`${(error as Error).message}; restarting both servers`);
      next = Math.max(next, Number(/seed (\d+)/.exec(String(error))?.[1] ?? next) + 1);
    }
  }
  if (mismatch === undefined) {
    console.log(`no mismatch in seeds ${from}..${from + count - 1} (${elapsed()})`);
  } else {
    console.log(describe(mismatch));
    console.log(`(after ${elapsed()}; rerun: --from=${mismatch.seed} --seeds=1)`);
    Deno.exitCode = 1;
  }
}
