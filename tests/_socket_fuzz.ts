/**
 * The socket-level differential fuzz: a seeded random request stream
 * (`_fuzz_streams.ts`) goes over real sockets to Debian's memcached (`-t 1`)
 * and to our server (the CLI, as a user runs it), and both must send the same
 * bytes back and close (or not) at the same point.
 *
 * What differs by nature is normalized, not skipped: cas uniques are named by
 * first appearance, ttls rounded and last-access times masked (the meta
 * normalizer), and every `STAT` value is compared by shape only (its name
 * stays), since counters follow each process's own history and clocks.
 *
 * Each case runs on a fresh connection to each server, after a `flush_all`
 * on another, so cases do not see each other's items. Writes are paced: the
 * next one goes once the server has been quiet for a moment, so each server
 * reads each write on its own, as a split packet arrives.
 *
 * The suite runs a few seeds (`socket_fuzz_test.ts`); the long form runs many:
 * `deno run -A tests/socket_fuzz.ts --seeds=2000 [--from=N] [--no-shrink]`.
 *
 * @module
 */

import { lastUniques, latin1, Listener } from "./_differential.ts";
import { escape, generate, type Stream, without, writesOf } from "./_fuzz_streams.ts";
import { normalizeMeta } from "./_meta_normalize.ts";
import { startMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer } from "./_servers.ts";

/** Quiet time after a write before the next one goes. */
const GAP_MS = 15;
/** Quiet time after the last write before the reply counts as complete. */
const SETTLE_MS = 60;
/** No case waits longer than this for a server, whatever it sends. */
const CASE_TIMEOUT_MS = 5000;

/** What one server did with one stream. */
export interface Played {
  /** Everything it sent, Latin-1. */
  reply: string;
  /** How many writes had gone when it closed the connection; -1 if it never did. */
  closedAfter: number;
}

/** A stream the two servers answered differently. */
export interface Mismatch {
  seed: number;
  stream: Stream;
  memcached: Played;
  ours: Played;
}

/** `<cas:KEY>` becomes the unique this server last returned for KEY, or 1 before it returned one. */
function fill(text: string, reply: string): string {
  if (!text.includes("<cas:")) return text;
  const uniques = lastUniques(reply);
  return text.replace(/<cas:([^>]*)>/g, (_, key: string) => String(uniques.get(key) ?? 1n));
}

/** Plays the writes on a fresh connection, each once the server has gone quiet. */
export async function play(port: number, writes: string[]): Promise<Played> {
  const listener = await Listener.open(port);
  const deadline = Date.now() + CASE_TIMEOUT_MS;
  let closedAfter = -1;
  try {
    for (const [i, write] of writes.entries()) {
      await listener.send(latin1(fill(write, listener.reply)));
      await listener.quiet(GAP_MS, deadline);
      if (listener.closed) {
        closedAfter = i + 1;
        break;
      }
    }
    await listener.quiet(SETTLE_MS, deadline);
    if (listener.closed && closedAfter < 0) closedAfter = writes.length;
  } finally {
    await listener.hangUp();
  }
  return { reply: listener.reply, closedAfter };
}

/**
 * The reply as both servers must agree on it: meta and classic masks, then
 * STAT values by shape, and the slab class in `me` lines, which is ours by
 * design: ours packs key and value without memcached's 48-byte header, so an
 * item can sit in a smaller class (`ms c 187` is class 4 here, 6 in memcached).
 */
export function normalizeFuzz(reply: string): string {
  return normalizeMeta(reply)
    .replace(/^STAT (\S+) [^\r\n]*\r\n/gm, "STAT $1 <v>\r\n")
    .replace(/^(ME \S+ .*) cls=\d+ /gm, "$1 cls=<class> ");
}

function render(played: Played): string {
  const close = played.closedAfter < 0 ? "" : `[closed after write ${played.closedAfter}]`;
  return normalizeFuzz(played.reply) + close;
}

/** The two servers under test; stopped with `await using`. */
export interface Pair extends AsyncDisposable {
  memcached: ServerProcess;
  ours: ServerProcess;
}

/** Starts Debian's memcached and our server with the same flags, both on one thread. */
export async function startPair(args: string[] = []): Promise<Pair> {
  const [memcached, ours] = await Promise.all([
    startMemcached(["-t", "1", ...args]),
    startOurServer(["-t", "1", ...args]),
  ]);
  return {
    memcached,
    ours,
    async [Symbol.asyncDispose]() {
      await Promise.all([memcached[Symbol.asyncDispose](), ours[Symbol.asyncDispose]()]);
    },
  };
}

/** Which servers of the pair have exited, and how, for a seed that could not finish. */
async function exits(pair: Pair): Promise<string> {
  let text = "";
  for (const [name, server] of [["memcached", pair.memcached], ["ours", pair.ours]] as const) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      server.process.status,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 200)),
    ]);
    clearTimeout(timer);
    if (status !== undefined) text += `; ${name} exited (code ${status.code}, ${status.signal})`;
  }
  return text;
}

/** Empties a server between cases, on a connection of its own. */
async function reset(port: number): Promise<void> {
  const played = await play(port, ["flush_all\r\nverbosity 0\r\n"]);
  if (played.reply !== "OK\r\nOK\r\n") {
    throw new Error(`Cannot reset the server on port ${port}: ${JSON.stringify(played.reply)}`);
  }
}

/** Plays one stream to both servers at once; a mismatch if they differ. */
export async function check(
  pair: Pair,
  seed: number,
  stream: Stream,
): Promise<Mismatch | undefined> {
  await Promise.all([reset(pair.memcached.port), reset(pair.ours.port)]);
  const writes = writesOf(stream);
  const [memcached, ours] = await Promise.all([
    play(pair.memcached.port, writes),
    play(pair.ours.port, writes),
  ]);
  if (render(memcached) === render(ours)) return undefined;
  return { seed, stream, memcached, ours };
}

/**
 * Whether the mismatch shows again when played once more: a case whose
 * writes a busy machine delivered late, merged into one read, does not.
 */
export async function reproduces(pair: Pair, mismatch: Mismatch): Promise<boolean> {
  return await check(pair, mismatch.seed, mismatch.stream) !== undefined;
}

/**
 * A smaller stream that still mismatches: drops one command at a time while
 * the mismatch stays, within `budgetMs`.
 */
export async function shrink(pair: Pair, mismatch: Mismatch, budgetMs = 20_000): Promise<Mismatch> {
  const deadline = Date.now() + budgetMs;
  let best = mismatch;
  for (let i = best.stream.commands.length - 1; i >= 0 && Date.now() < deadline; i--) {
    if (best.stream.commands.length === 1) break;
    const candidate = without(best.stream, Math.min(i, best.stream.commands.length - 1));
    const found = await check(pair, best.seed, candidate);
    if (found !== undefined && await reproduces(pair, found)) best = found;
  }
  return best;
}

/** The report of a mismatch: seed, request bytes, both replies and where they part. */
export function describe(mismatch: Mismatch): string {
  const expected = render(mismatch.memcached);
  const actual = render(mismatch.ours);
  let at = 0;
  while (at < expected.length && at < actual.length && expected[at] === actual[at]) at++;
  const writes = writesOf(mismatch.stream).map((w, i) => `  write ${i + 1}: "${escape(w)}"`);
  return [
    `seed ${mismatch.seed}: our server differs from memcached at byte ${at} of the normalized reply`,
    `request (${writes.length} writes):`,
    ...writes,
    `memcached: "${escape(expected)}"`,
    `ours:      "${escape(actual)}"`,
    `memcached raw: "${escape(mismatch.memcached.reply)}"`,
    `ours raw:      "${escape(mismatch.ours.reply)}"`,
  ].join("\n");
}

/** Options of {@linkcode fuzz}. */
export interface FuzzOptions {
  /** Called after each seed, for progress. */
  onSeed?: (seed: number, done: number) => void;
  /** Stop starting new seeds after this long. */
  timeLimitMs?: number;
  /** Shrink the first mismatch before returning it. */
  shrink?: boolean;
}

/**
 * Runs the seeds in order against a pair, stops at the first mismatch that
 * reproduces, and returns it (shrunk if asked).
 */
export async function fuzz(
  pair: Pair,
  seeds: Iterable<number>,
  options: FuzzOptions = {},
): Promise<Mismatch | undefined> {
  const deadline = Date.now() + (options.timeLimitMs ?? Infinity);
  let done = 0;
  for (const seed of seeds) {
    if (Date.now() > deadline) break;
    try {
      const mismatch = await check(pair, seed, generate(seed));
      done++;
      options.onSeed?.(seed, done);
      if (mismatch === undefined || !await reproduces(pair, mismatch)) continue;
      return options.shrink ? await shrink(pair, mismatch) : mismatch;
    } catch (error) {
      // A server that went away fails the seed that was running.
      throw new Error(`Cannot finish seed ${seed}: ${error}${await exits(pair)}`, { cause: error });
    }
  }
  return undefined;
}
