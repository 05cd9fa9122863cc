/**
 * Seeded random request streams for the socket-level differential fuzz
 * (`_socket_fuzz.ts`): valid and broken commands of every kind the text and
 * meta protocols have, cut into writes at random points. The same seed gives
 * the same stream, so a failing seed reproduces.
 *
 * Streams avoid what only a clock decides: exptimes and delays are 0,
 * negative, or far enough away (over 100 s) that no item expires during a
 * case. `<cas:KEY>` in a command is filled, per server, with the unique that
 * server last returned for KEY (as `lastUniques` in `_differential.ts` reads it).
 *
 * Left out on purpose: `verbosity` above 0 (both servers would log every
 * command), `stats items`/`stats slabs` (their class lists follow history,
 * see `misc`), `stats detail on`, the commands ours does not have
 * (`lru_crawler`, `watch`, `lru`, `slabs`, ...), and a first byte of 0x80,
 * which switches memcached to its binary protocol.
 *
 * @module
 */

/** A small fast PRNG (mulberry32): the same seed, the same numbers. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** One of the generators, chosen by weight. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of entries) total += w;
    let at = this.next() * total;
    for (const [w, value] of entries) {
      at -= w;
      if (at < 0) return value;
    }
    return entries[entries.length - 1][1];
  }
}

/** A stream: the commands in order, and where the bytes are cut into writes. */
export interface Stream {
  /** Each command's bytes, Latin-1 (one char per byte), placeholders included. */
  commands: string[];
  /** Offsets into the joined commands where a new write starts, ascending. */
  cuts: number[];
}

const KEYS = ["a", "b", "c", "n", "k1", "key:2", "\xe9t\xe9"];

function randomBytes(rng: Rng, length: number, exclude: string): string {
  let text = "";
  while (text.length < length) {
    const c = String.fromCharCode(rng.int(0, 255));
    if (!exclude.includes(c)) text += c;
  }
  return text;
}

function key(rng: Rng): string {
  return rng.weighted<() => string>([
    [85, () => rng.pick(KEYS)],
    [4, () => randomBytes(rng, rng.int(1, 12), " \r\n\0")],
    [3, () => "k".repeat(250)],
    [4, () => "k".repeat(rng.int(251, 300))],
    [1, () => `a\0b`],
    [1, () => ""],
  ])();
}

function keys(rng: Rng): string {
  const n = rng.weighted([[6, 1], [3, rng.int(2, 6)], [1, rng.int(7, 40)]]);
  return Array.from({ length: n }, () => key(rng)).join(" ");
}

function value(rng: Rng): string {
  return rng.weighted<() => string>([
    [45, () => randomBytes(rng, rng.int(0, 12), "")],
    [25, () => String(rng.int(0, 1000))],
    [5, () => rng.pick(["18446744073709551615", "18446744073709551616", " 12", "12 ", "-1"])],
    [15, () => "v".repeat(rng.int(13, 200))],
    [3, () => "x".repeat(rng.int(1000, 4000))],
    [7, () => "a\r\nb"],
  ])();
}

const FLAGS = ["0", "0", "0", "1", "7", "65535", "4294967295", "4294967296", "-1", "x", "01", "+2"];
/** No exptime between 1 and 100 s: those expire while a case runs, by the clock alone. */
const EXPTIMES = ["0", "0", "0", "-1", "1000", "3600", "2592001", "9999999999", "x", "+0"];
const DELTAS = ["1", "5", "0", "18446744073709551615", "18446744073709551616", "-1", "x", "01"];

function noreply(rng: Rng): string {
  return rng.chance(0.15) ? " noreply" : "";
}

function storage(rng: Rng): string {
  const command = rng.pick(["set", "set", "add", "replace", "append", "prepend", "cas"]);
  const k = key(rng);
  const data = value(rng);
  const length = rng.weighted<() => string>([
    [80, () => String(data.length)],
    [8, () => String(Math.max(0, data.length + rng.pick([-2, -1, 1, 2, 3])))],
    [2, () => rng.pick(["-1", "x", "2147483647", "4294967301", "1a"])],
    [3, () => String(rng.int(1048577, 3000000))],
  ])();
  const cas = command === "cas"
    ? ` ${rng.pick([`<cas:${k}>`, `<cas:${k}>`, "1", "0", "18446744073709551615", "x"])}`
    : "";
  const extra = rng.chance(0.03) ? " extra" : "";
  const line = `${command} ${k} ${rng.pick(FLAGS)} ${rng.pick(EXPTIMES)} ${length}${cas}${
    noreply(rng)
  }${extra}\r\n`;
  // A too-large length is swallowed: send some of it, or the stream's rest is data.
  const declared = Number(length);
  if (declared > 1048576) return line + "z".repeat(rng.int(0, 2000));
  return line + data + (rng.chance(0.95) ? "\r\n" : rng.pick(["\n", "", "\r", "XY"]));
}

function retrieval(rng: Rng): string {
  const command = rng.pick(["get", "get", "gets", "gat", "gats", "bget"]);
  const exptime = command.startsWith("gat") ? `${rng.pick(EXPTIMES)} ` : "";
  return `${command} ${exptime}${rng.chance(0.03) ? "" : keys(rng)}\r\n`;
}

function arithmetic(rng: Rng): string {
  const extra = rng.chance(0.05) ? " 2" : "";
  return `${rng.pick(["incr", "decr"])} ${key(rng)} ${rng.pick(DELTAS)}${noreply(rng)}${extra}\r\n`;
}

function touch(rng: Rng): string {
  return `touch ${key(rng)} ${rng.pick(EXPTIMES)}${noreply(rng)}\r\n`;
}

function del(rng: Rng): string {
  const hold = rng.weighted([[8, ""], [2, " 0"], [1, " 5"], [1, " x"]]);
  return `delete ${key(rng)}${hold}${noreply(rng)}\r\n`;
}

function misc(rng: Rng): string {
  return rng.pick([
    "version\r\n",
    "version x\r\n",
    "flush_all\r\n",
    "flush_all 0\r\n",
    "flush_all -1\r\n",
    "flush_all noreply\r\n",
    "flush_all x\r\n",
    "flush_all 1 2\r\n",
    // memcached logs at verbosity 1 and 2; level 0 keeps both servers quiet.
    "verbosity 0\r\n",
    "verbosity 0 noreply\r\n",
    "verbosity\r\n",
    "verbosity x\r\n",
    "verbosity 0 1 2\r\n",
    "stats\r\n",
    "stats settings\r\n",
    // No stats items or slabs: which classes they list follows history, not the stream.
    // memcached counts flushed items until its crawler reclaims them, and takes a
    // slab page for an item even when the add or replace that wanted it fails.
    "stats bogus\r\n",
    "stats detail\r\n",
    "shutdown\r\n",
    "quit\r\n",
  ]);
}

const MG_FLAGS = ["b", "c", "f", "h", "k", "l", "q", "s", "t", "u", "v", "E5", "Oab", "O1"];
const MG_VALUED = ["N", "R", "T"];
const MS_FLAGS = ["b", "c", "I", "k", "q", "s", "Oz", "E9"];
const MS_VALUED = ["F", "T", "N", "C", "S"];
const MD_FLAGS = ["b", "I", "k", "q", "Oq", "x", "E3"];
const MA_FLAGS = ["b", "c", "k", "q", "t", "v", "O7", "E1"];
const MA_VALUED = ["N", "J", "D", "T", "C"];

/** Flag tokens for a meta command: known ones, numbers for the valued ones, sometimes junk. */
function metaFlags(rng: Rng, plain: string[], valued: string[], k: string): string {
  const n = rng.weighted([[5, rng.int(0, 3)], [4, rng.int(4, 8)], [1, rng.int(18, 24)]]);
  const flags: string[] = [];
  for (let i = 0; i < n; i++) {
    flags.push(
      rng.weighted<() => string>([
        [10, () => rng.pick(plain)],
        [
          6,
          () => rng.pick(valued) + rng.pick(["0", "100", "1000", "-1", "x", "", "<cas:" + k + ">"]),
        ],
        [
          1,
          () => rng.pick(["M" + rng.pick(["E", "A", "P", "R", "S", "I", "D", "+", "-", "x", ""])]),
        ],
        [1, () => randomBytes(rng, rng.int(1, 4), " \r\n\0")],
      ])(),
    );
  }
  return flags.length === 0 ? "" : ` ${flags.join(" ")}`;
}

function meta(rng: Rng): string {
  const k = rng.chance(0.08) ? rng.pick(["YWJj", "YQ==", "a2V5", "!!", "YWI"]) : key(rng);
  return rng.weighted<() => string>([
    [5, () => `mg ${k}${metaFlags(rng, MG_FLAGS, MG_VALUED, k)}\r\n`],
    [4, () => {
      const data = value(rng);
      const length = rng.chance(0.9) ? String(data.length) : rng.pick(["x", "-1", "2000000"]);
      const line = `ms ${k} ${length}${metaFlags(rng, MS_FLAGS, MS_VALUED, k)}\r\n`;
      return length === "2000000" ? line : `${line}${data}\r\n`;
    }],
    [2, () => `md ${k}${metaFlags(rng, MD_FLAGS, ["C", "T"], k)}\r\n`],
    [3, () => `ma ${k}${metaFlags(rng, MA_FLAGS, MA_VALUED, k)}\r\n`],
    [1, () => rng.pick(["mn\r\n", "mn x\r\n"])],
    [1, () => `me ${k}${rng.chance(0.2) ? " b" : ""}\r\n`],
    [1, () => rng.pick(["mg\r\n", "ms\r\n", "ms k\r\n", "md\r\n", "ma\r\n", "me\r\n", "mz k\r\n"])],
  ])();
}

function junk(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => rng.pick(["bogus\r\n", "GET k\r\n", "sets k 0 0 1\r\n", "x\r\n", "\r\n", "\n"])],
    [3, () => `${randomBytes(rng, rng.int(2, 10), " \r\n\0")} ${key(rng)}\r\n`],
    [3, () => `${randomBytes(rng, rng.int(0, 60), "\n")}\r\n`],
    [
      2,
      () => rng.pick(["get a\0b\r\n", "\0version\r\n", "version\0\r\n", "set k\0 0 0 1\r\nx\r\n"]),
    ],
    [2, () => `${rng.pick(["  ", "\t", " "])}get ${key(rng)}${rng.pick(["  ", " ", ""])}\r\n`],
    [2, () =>
      rng.pick([
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /x HTTP/1.0\r\nContent-Length: 16\r\n\r\nset p 0 0 1\r\nx\r\n",
        "xx HTTP/1.1 y\r\n",
        "HTTP/1.0\r\n",
        "gx HTTP/1.1\r\n",
      ])],
  ])();
}

/** Over 2048 bytes: a long line that ends (or not) and a long get key list. */
function long(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => `${"y".repeat(rng.int(2049, 6000))}\r\n`],
    [1, () => `${"y".repeat(rng.int(1800, 2300))}`],
    [
      2,
      () => `get ${Array.from({ length: rng.int(300, 900) }, () => rng.pick(KEYS)).join(" ")}\r\n`,
    ],
    [1, () => `set ${"k".repeat(rng.int(2049, 4000))} 0 0 1\r\nx\r\n`],
  ])();
}

/** The commands of one stream, with their weights. */
const KINDS: readonly (readonly [number, (rng: Rng) => string])[] = [
  [22, storage],
  [16, retrieval],
  [6, arithmetic],
  [3, touch],
  [5, del],
  [4, misc],
  [22, meta],
  [8, junk],
  [1, long],
];

/** The stream of a seed: 1 to 30 commands, cut into 1 to 5 writes. */
export function generate(seed: number): Stream {
  const rng = new Rng(seed);
  const count = rng.weighted([[2, rng.int(1, 4)], [5, rng.int(5, 15)], [3, rng.int(16, 30)]]);
  const commands: string[] = [];
  for (let i = 0; i < count; i++) commands.push(rng.weighted(KINDS)(rng));
  // A first byte of 0x80 makes memcached speak its binary protocol, which ours does not.
  if (commands[0].charCodeAt(0) === 0x80) commands[0] = `\x81${commands[0].slice(1)}`;
  // Keep most streams inside memcached's 16 KiB read buffer.
  let total = 0;
  for (const c of commands) total += c.length;
  const writes = rng.weighted([[4, 1], [4, rng.int(2, 3)], [2, rng.int(4, 5)]]);
  const cuts = new Set<number>();
  for (let i = 1; i < writes && total > 1; i++) cuts.add(rng.int(1, total - 1));
  return { commands, cuts: [...cuts].sort((a, b) => a - b) };
}

/** The writes of a stream: its joined commands cut at its cuts. */
export function writesOf(stream: Stream): string[] {
  const joined = stream.commands.join("");
  const writes: string[] = [];
  let at = 0;
  for (const cut of stream.cuts) {
    writes.push(joined.slice(at, cut));
    at = cut;
  }
  writes.push(joined.slice(at));
  return writes.filter((w) => w.length > 0);
}

/** The stream without command `i`, its cuts moved to stay where they were in the rest. */
export function without(stream: Stream, i: number): Stream {
  let start = 0;
  for (let j = 0; j < i; j++) start += stream.commands[j].length;
  const length = stream.commands[i].length;
  const cuts = stream.cuts
    .map((cut) => cut <= start ? cut : cut >= start + length ? cut - length : start)
    .filter((cut, j, all) => cut > 0 && all.indexOf(cut) === j);
  return { commands: stream.commands.filter((_, j) => j !== i), cuts };
}

/** Bytes as readable text: printable ASCII as is, the rest as \r, \n, \0 or \xNN. */
export function escape(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c === "\r") out += "\\r";
    else if (c === "\n") out += "\\n";
    else if (c === "\\") out += "\\\\";
    else if (code >= 0x20 && code < 0x7f) out += c;
    else out += `\\x${code.toString(16).padStart(2, "0")}`;
  }
  return out;
}
