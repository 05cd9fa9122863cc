/**
 * The differential harness: plays the same bytes to Debian's memcached and
 * to our server and compares the replies once the values that differ by
 * nature (cas uniques, clocks, pids, ports) are normalized. Used by
 * `differential_test.ts` (classic commands) and `meta_differential_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hasMemcached } from "./_peers.ts";
import { type ServerProcess, startOurServer, startReference } from "./_servers.ts";
import type { Transcript, TranscriptGroup, Turn } from "./_transcripts.ts";

/** Rewrites a reply stream into the form both servers must agree on. */
export type Normalizer = (reply: string) => string;

/** Whether Debian's memcached is installed; differential tests skip without it. */
export const HAS_MEMCACHED = hasMemcached();

/** How long a server must stay silent before its reply to a turn counts as complete. */
const QUIET_MS = 200;
/** How long a turn waits for a unique it names to arrive. */
const UNIQUE_WAIT_MS = 5000;
/** The pause between chunks of a split turn, so each arrives on its own. */
const CHUNK_GAP_MS = 5;

/**
 * STAT values that describe the process rather than the transcript; only
 * their names are compared. A name keeps its place whether or not it is
 * listed here. Per-class names (`items:1:age`, `1:chunk_size`) are looked up
 * without their class prefix.
 */
export const MASKED_STATS = new Set([
  // Clocks and the process: differ between any two runs.
  "pid",
  "uptime",
  "time",
  "rusage_user",
  "rusage_system",
  "oldest", // settings: when the last flush_all fell due, in server uptime
  "age", // items: seconds since the LRU tail was touched
  "age_hot",
  "age_warm",
  "evicted_time",
  "time_since_server_cert_refresh",
  // The build: the libevent memcached was linked with.
  "libevent",
  // The listening port, and connections, which count the harness's readiness probes.
  "tcpport",
  "curr_connections",
  // memcached counts only handshakes that fail while it accepts; ours counts the probes' too.
  "ssl_handshake_errors",
  "total_connections",
  "connection_structures",
  // stats replies themselves carry pids and clocks of varying width.
  "bytes_written",
  // Ours speaks the text protocol only and says so; memcached also negotiates binary.
  "binding_protocol",
  // memcached keeps 5 file descriptors per thread for itself; ours keeps none.
  "reserved_fds",
  // Machinery ours does not have, and says so: memcached's cachedump, its
  // segmented LRU with a maintainer thread, and 8-byte hash buckets (ours
  // hold 4-byte slot numbers, so the same table takes half the bytes).
  "dump_enabled",
  "lru_maintainer_thread",
  "lru_segmented",
  "hash_bytes",
  // memcached's per-worker buffer caches, which follow connection timing.
  "response_obj_count",
  "response_obj_bytes",
  "read_buf_count",
  "read_buf_bytes",
  "read_buf_bytes_free",
  // memcached's background LRU maintainer and crawler threads run on their own clock.
  "lru_crawler_running",
  "lru_crawler_starts",
  "lru_maintainer_juggles",
  "lrutail_reflocked",
  "crawler_reclaimed",
  "crawler_items_checked",
  "moves_to_cold",
  "moves_to_warm",
  "moves_within_lru",
  "number_hot",
  "number_warm",
  "number_cold",
  "hits_to_hot",
  "hits_to_warm",
  "hits_to_cold",
]);

/**
 * STAT names memcached prints that our server cannot print, each with the
 * reason; they are left out of both replies before comparing. Empty: every
 * name memcached prints is expected from ours too.
 */
const IMPOSSIBLE_STATS = new Set<string>([]);

/**
 * STAT names only our server prints, left out before comparing: which
 * connection layer runs its sockets (`stats settings`), which
 * tests/connection_layers_test.ts checks.
 */
export const OURS_ONLY_STATS = new Set<string>(["connection_layer"]);

export function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export function fromLatin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** One piece of a reply stream: a line, or a VALUE line with its data block. */
export interface ReplyPart {
  /** A whole line without its CRLF, or the unfinished tail of the stream. */
  line: string;
  /** For a VALUE line: the data block and its CRLF as received. */
  data?: string;
  value?: { key: string; flags: string; bytes: string; cas?: string };
  complete: boolean;
}

export function* replyParts(reply: string): Generator<ReplyPart> {
  let at = 0;
  while (at < reply.length) {
    const eol = reply.indexOf("\r\n", at);
    if (eol < 0) {
      yield { line: reply.slice(at), complete: false };
      return;
    }
    const line = reply.slice(at, eol);
    at = eol + 2;
    const value = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/.exec(line);
    if (value === null) {
      yield { line, complete: true };
      continue;
    }
    const [, key, flags, bytes, cas] = value;
    const data = reply.slice(at, at + Number(bytes) + 2);
    at += data.length;
    yield { line, data, value: { key, flags, bytes, cas }, complete: true };
  }
}

/**
 * Rewrites a reply stream into the form both servers must agree on:
 *
 * - a cas unique in a `VALUE <key> <flags> <bytes> <cas>` line becomes
 *   `<c1>`, `<c2>`, ... numbered by first appearance in the transcript, so
 *   equal uniques stay equal and different ones different; 0 (what -C
 *   reports) stays 0, since no real unique is 0;
 * - a `STAT <name> <value>` line keeps its name, and its value unless the
 *   name (without a class prefix) is in MASKED_STATS, where it becomes `<masked>`;
 *   names in IMPOSSIBLE_STATS are dropped;
 * - everything else, data blocks included, stays byte for byte.
 */
export function normalize(reply: string, uniques: Map<string, string> = new Map()): string {
  let out = "";
  for (const part of replyParts(reply)) {
    if (!part.complete) {
      out += part.line;
      continue;
    }
    if (part.value !== undefined) {
      const { key, flags, bytes, cas } = part.value;
      let header = part.line;
      if (cas !== undefined && cas !== "0") {
        let name = uniques.get(cas);
        if (name === undefined) {
          name = `<c${uniques.size + 1}>`;
          uniques.set(cas, name);
        }
        header = `VALUE ${key} ${flags} ${bytes} ${name}`;
      }
      out += `${header}\r\n${part.data}`;
      continue;
    }
    const stat = /^STAT (\S+) /.exec(part.line);
    if (stat !== null) {
      const name = stat[1];
      const base = name.replace(/^(?:items:)?\d+:/, "");
      if (IMPOSSIBLE_STATS.has(base) || OURS_ONLY_STATS.has(base)) continue;
      if (MASKED_STATS.has(base)) {
        out += `STAT ${name} <masked>\r\n`;
        continue;
      }
    }
    out += `${part.line}\r\n`;
  }
  return out;
}

/**
 * The cas unique this server last returned for each key so far: from
 * `VALUE` lines, and from meta replies that carry both `c<cas>` and `k<key>`.
 */
export function lastUniques(reply: string): Map<string, bigint> {
  const uniques = new Map<string, bigint>();
  for (const part of replyParts(reply)) {
    if (part.value?.cas !== undefined) {
      uniques.set(part.value.key, BigInt(part.value.cas));
      continue;
    }
    if (!/^(?:HD|VA \d+|EX|NF|NS)(?: |$)/.test(part.line)) continue;
    const tokens = part.line.split(" ");
    const cas = tokens.find((t) => /^c\d+$/.test(t));
    const key = tokens.find((t) => t.startsWith("k") && t.length > 1);
    if (cas !== undefined && key !== undefined) uniques.set(key.slice(1), BigInt(cas.slice(1)));
  }
  return uniques;
}

/** Whether every `<cas:key>` in a turn has a unique in the reply so far. */
function canFillUniques(text: string, reply: string): boolean {
  const keys = [...text.matchAll(/<cas:([^>+]+)(\+1)?>/g)].map((m) => m[1]);
  if (keys.length === 0) return true;
  const uniques = lastUniques(reply);
  return keys.every((key) => uniques.has(key));
}

/** Replaces `<cas:key>` and `<cas:key+1>` in a turn with the unique last seen for the key. */
export function fillUniques(text: string, reply: string): string {
  const uniques = lastUniques(reply);
  return text.replace(/<cas:([^>+]+)(\+1)?>/g, (_, key: string, plusOne?: string) => {
    const unique = uniques.get(key);
    if (unique === undefined) throw new Error(`Cannot fill <cas:${key}>: no unique seen for it`);
    return String(plusOne ? unique + 1n : unique);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a connection to the server on `port`: plain TCP unless a test dials TLS. */
export type Dial = (port: number) => Promise<Deno.Conn>;

const plain: Dial = (port) => Deno.connect({ hostname: "127.0.0.1", port });

/** One connection whose replies are gathered as they arrive. */
export class Listener {
  /** Everything the server has sent, Latin-1. */
  reply = "";
  /** When the server last sent something (or a caller says it last heard). */
  lastHeard = Date.now();
  /** The server closed the connection; our own hang-up does not count. */
  closed = false;
  #conn: Deno.Conn;
  #hangingUp = false;
  #reading: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  /** Connects to 127.0.0.1:`port` (plain TCP unless `dial` says otherwise) and starts gathering. */
  static async open(port: number, dial: Dial = plain): Promise<Listener> {
    const conn = await dial(port);
    // A TLS connection has no Nagle switch.
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    return new Listener(conn);
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await this.#conn.read(buf).catch(() => null);
      if (n === null) break;
      this.reply += fromLatin1(buf.subarray(0, n));
      this.lastHeard = Date.now();
    }
    this.closed = !this.#hangingUp;
  }

  /** Writes the bytes; a server that has closed the connection may refuse them. */
  async send(bytes: Uint8Array): Promise<void> {
    try {
      for (let sent = 0; sent < bytes.length;) sent += await this.#conn.write(bytes.subarray(sent));
    } catch (error) {
      if (
        !(error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset)
      ) {
        throw error;
      }
    }
  }

  /** Waits until the server has sent nothing for `ms` (from now at least), has closed, or `deadline`. */
  async quiet(ms: number, deadline = Infinity): Promise<void> {
    this.lastHeard = Math.max(this.lastHeard, Date.now());
    while (!this.closed && Date.now() - this.lastHeard < ms && Date.now() < deadline) {
      await sleep(Math.max(1, ms - (Date.now() - this.lastHeard)));
    }
  }

  /** Closes our end and waits for the gathering to stop. */
  async hangUp(): Promise<void> {
    this.#hangingUp = true;
    try {
      this.#conn.close();
    } catch { /* closed by the server */ }
    await this.#reading;
  }
}

/** What a server sent over one conversation, and whether it closed the connection. */
export interface Conversation {
  reply: string;
  closed: boolean;
}

/**
 * Plays the turns on one connection. After each turn it waits until the
 * server has sent nothing for QUIET_MS, or has closed the connection.
 */
export async function converse(
  port: number,
  turns: Turn[],
  dial: Dial = plain,
): Promise<Conversation> {
  const listener = await Listener.open(port, dial);
  try {
    for (const turn of turns) {
      if (listener.closed) break;
      if (typeof turn === "object" && !Array.isArray(turn)) {
        await sleep(turn.pauseMs);
        continue;
      }
      const chunks = Array.isArray(turn) ? turn : [turn];
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0) await sleep(CHUNK_GAP_MS);
        // On a loaded box the reply holding a unique can come after the quiet window.
        const deadline = Date.now() + UNIQUE_WAIT_MS;
        while (
          !canFillUniques(chunk, listener.reply) && !listener.closed && Date.now() < deadline
        ) {
          await sleep(10);
        }
        await listener.send(latin1(fillUniques(chunk, listener.reply)));
      }
      await listener.quiet(QUIET_MS);
    }
  } finally {
    await listener.hangUp();
  }
  return { reply: listener.reply, closed: listener.closed };
}

export function render(conversation: Conversation, normalizer: Normalizer = normalize): string {
  return normalizer(conversation.reply) + (conversation.closed ? "[closed by the server]" : "");
}

export function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Plays a transcript to both servers at once and requires the same normalized replies. */
export async function assertSameReplies(
  reference: ServerProcess,
  ours: ServerProcess,
  transcript: Transcript,
  normalizer: Normalizer = normalize,
): Promise<void> {
  const [theirs, mine] = await Promise.all([
    converse(reference.port, transcript.turns, reference.dial),
    converse(ours.port, transcript.turns, ours.dial),
  ]);
  const expected = render(theirs, normalizer);
  const actual = render(mine, normalizer);
  if (actual === expected) return;
  const at = firstDifference(actual, expected);
  const from = Math.max(0, at - 40);
  const excerpt = (text: string) => JSON.stringify(text.slice(from, at + 80));
  assert.fail(
    `Our server's reply differs from memcached's at byte ${at} (of ${actual.length} vs ${expected.length}):\n` +
      `  memcached: ${excerpt(expected)}\n  ours:      ${excerpt(actual)}`,
  );
}

/** Sends one line and waits for its one-line reply, without waiting for quiet. */
export async function roundTrip(
  port: number,
  line: string,
  expected: string,
  dial: Dial = plain,
): Promise<void> {
  const conn = await dial(port);
  try {
    await conn.write(latin1(line));
    const buf = new Uint8Array(64);
    let reply = "";
    while (!reply.endsWith("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      reply += fromLatin1(buf.subarray(0, n));
    }
    assert.equal(
      reply,
      expected,
      `Cannot send ${JSON.stringify(line)} to the server on port ${port}`,
    );
  } finally {
    conn.close();
  }
}

export const flushAll = (port: number, dial: Dial = plain) =>
  roundTrip(port, "flush_all\r\n", "OK\r\n", dial);
/** A first request, so a slow first reply (a cold JIT) is not taken for silence. */
export const warmUp = (port: number, dial: Dial = plain) =>
  roundTrip(port, "version\r\n", "VERSION 1.6.18\r\n", dial);

/** Starts our server with the reference's flags; startReference adds -t 1, so ours gets it too. */
export function startOurs(args: string[]): Promise<ServerProcess> {
  return startOurServer(["-t", "1", ...args]);
}

/**
 * Registers a test per group, `${title}: ${group.name}`: memcached and ours
 * start with the group's flags, and each transcript is a step whose replies
 * must match once `normalizer` has run (after a `flush_all` when the group
 * asks for one).
 */
export function testGroups(
  title: string,
  groups: readonly TranscriptGroup[],
  normalizer: Normalizer = normalize,
): void {
  for (const group of groups) {
    Deno.test({
      name: `${title}: ${group.name}`,
      ignore: !HAS_MEMCACHED,
      async fn(t) {
        await using reference = await startReference(group.args);
        await using ours = await startOurs(group.args);
        await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
        for (const transcript of group.transcripts) {
          await t.step(transcript.name, async () => {
            if (group.flushBefore) {
              await Promise.all([flushAll(reference.port), flushAll(ours.port)]);
            }
            await assertSameReplies(reference, ours, transcript, normalizer);
          });
        }
      },
    });
  }
}
