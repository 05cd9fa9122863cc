import assert from "node:assert/strict";
import { bytes, drain, feedings, snapshot } from "../tests/_feed.ts";
import { ProtocolError } from "./errors.ts";
import { RequestParser, type RequestParserOptions } from "./request_parser.ts";

/** Parses `input` whole, byte by byte and split at every position; each must give `expected`. */
function expectFrames(input: string, expected: unknown[], options?: RequestParserOptions): void {
  for (const [how, chunks] of feedings(bytes(input))) {
    const parser = new RequestParser(options);
    assert.deepEqual(drain(parser, chunks), expected, `fed ${how}`);
    assert.equal(parser.buffered, 0, `fed ${how}: bytes left over`);
  }
}

function storage(command: string, key: string, data: string, extra: object = {}) {
  return {
    type: "storage",
    command,
    key,
    flags: 0,
    exptime: 0,
    cas: 0n,
    noreply: false,
    data,
    status: "ok",
    ...extra,
  };
}

function retrieval(command: string, keys: string[], extra: object = {}) {
  return { type: "retrieval", command, keys, exptime: 0, badKey: false, ...extra };
}

function invalid(reply: string, noreply = false) {
  return { type: "invalid", reply, noreply };
}

function meta(command: string, key: string, flags: string[], extra: object = {}) {
  const tokenCount = 2 + (key === "" ? 0 : 1) + flags.length + (command === "ms" ? 1 : 0);
  return { type: "meta", command, key, flags, data: "", status: "ok", tokenCount, ...extra };
}

Deno.test("RequestParser reads every storage command with its data block", () => {
  expectFrames(
    "set k 1 2 5\r\nhello\r\nadd k 0 0 0\r\n\r\nreplace k 4294967295 -1 2 noreply\r\nab\r\n" +
      "append k 0 0 1\r\nx\r\nprepend k 0 0 1\r\ny\r\ncas k 0 0 3 18446744073709551615\r\nabc\r\n" +
      "cas k 0 0 1 7 noreply\r\nz\r\n",
    [
      storage("set", "k", "hello", { flags: 1, exptime: 2 }),
      storage("add", "k", ""),
      storage("replace", "k", "ab", { flags: 4294967295, exptime: -1, noreply: true }),
      storage("append", "k", "x"),
      storage("prepend", "k", "y"),
      storage("cas", "k", "abc", { cas: 18446744073709551615n }),
      storage("cas", "k", "z", { cas: 7n, noreply: true }),
    ],
  );
});

Deno.test("RequestParser keeps data blocks byte-exact, CR and LF inside included", () => {
  expectFrames("set k 0 0 6\r\n\r\n\0\xff\r\n\r\n", [storage("set", "k", "\r\n\0\xff\r\n")]);
});

Deno.test("RequestParser reads get, gets, gat, gats and bget with many keys", () => {
  expectFrames(
    "get a\r\ngets a b  c\r\ngat 10 a b\r\ngats -1 a\r\nbget a\r\n  get   x  \r\n",
    [
      retrieval("get", ["a"]),
      retrieval("gets", ["a", "b", "c"]),
      retrieval("gat", ["a", "b"], { exptime: 10 }),
      retrieval("gats", ["a"], { exptime: -1 }),
      retrieval("get", ["a"]),
      retrieval("get", ["x"]),
    ],
  );
});

Deno.test("RequestParser takes a lone LF as a line end, as memcached does", () => {
  expectFrames("get a\nversion\n", [retrieval("get", ["a"]), { type: "version" }]);
});

Deno.test("RequestParser reads delete with memcached's hold-time and noreply rules", () => {
  expectFrames(
    "delete k\r\ndelete k 0\r\ndelete k noreply\r\ndelete k 0 noreply\r\ndelete k 5\r\n" +
      "delete k 5 noreply\r\ndelete k x y\r\ndelete\r\ndelete a b c d\r\n",
    [
      { type: "delete", key: "k", noreply: false },
      { type: "delete", key: "k", noreply: false },
      { type: "delete", key: "k", noreply: true },
      { type: "delete", key: "k", noreply: true },
      invalid("BAD_DELETE_FORMAT"),
      invalid("BAD_DELETE_FORMAT", true),
      invalid("BAD_DELETE_FORMAT"),
      invalid("ERROR"),
      invalid("ERROR"),
    ],
  );
});

Deno.test("RequestParser reads incr, decr and touch, and refuses bad numbers with memcached's replies", () => {
  expectFrames(
    "incr k 1\r\ndecr k 18446744073709551615 noreply\r\nincr k -1\r\nincr k x noreply\r\n" +
      "touch k 10\r\ntouch k x\r\ntouch k 1 noreply\r\nincr k\r\ntouch k\r\n",
    [
      { type: "arithmetic", command: "incr", key: "k", delta: 1n, noreply: false },
      {
        type: "arithmetic",
        command: "decr",
        key: "k",
        delta: 18446744073709551615n,
        noreply: true,
      },
      invalid("INVALID_DELTA"),
      invalid("INVALID_DELTA", true),
      { type: "touch", key: "k", exptime: 10, noreply: false },
      invalid("INVALID_EXPTIME"),
      { type: "touch", key: "k", exptime: 1, noreply: true },
      invalid("ERROR"),
      invalid("ERROR"),
    ],
  );
});

Deno.test("RequestParser reads flush_all, stats, version, verbosity, quit and shutdown", () => {
  expectFrames(
    "flush_all\r\nflush_all 10\r\nflush_all noreply\r\nflush_all 10 noreply\r\nflush_all 10 20\r\n" +
      "flush_all x\r\nstats\r\nstats settings\r\nstats slabs x\r\nversion\r\nverbosity 1\r\n" +
      "verbosity noreply\r\nverbosity\r\nquit\r\nshutdown\r\nshutdown graceful\r\n",
    [
      { type: "flush_all", delay: 0, noreply: false },
      { type: "flush_all", delay: 10, noreply: false },
      { type: "flush_all", delay: 0, noreply: true },
      { type: "flush_all", delay: 10, noreply: true },
      { type: "flush_all", delay: 10, noreply: false },
      invalid("INVALID_EXPTIME"),
      { type: "stats", args: [] },
      { type: "stats", args: ["settings"] },
      { type: "stats", args: ["slabs", "x"] },
      { type: "version" },
      { type: "verbosity", level: 1, noreply: false },
      invalid("BAD_COMMAND_LINE_FORMAT", true),
      invalid("ERROR"),
      { type: "quit" },
      { type: "shutdown", args: [] },
      { type: "shutdown", args: ["graceful"] },
    ],
  );
});

Deno.test("RequestParser reads the meta commands' line form and the data block of ms", () => {
  expectFrames(
    "mg k v t c\r\nms k 5 T10 F3\r\nhello\r\nmd k q\r\nma k D5 N0\r\nmn\r\nme k\r\nmg k\r\n",
    [
      meta("mg", "k", ["v", "t", "c"]),
      meta("ms", "k", ["T10", "F3"], { data: "hello" }),
      meta("md", "k", ["q"]),
      meta("ma", "k", ["D5", "N0"]),
      { type: "meta", command: "mn", key: "", flags: [], data: "", status: "ok", tokenCount: 2 },
      meta("me", "k", []),
      meta("mg", "k", []),
    ],
  );
});

Deno.test("RequestParser refuses bad meta lines as memcached does", () => {
  expectFrames(
    `mg\r\nme\r\nms k\r\nms k x\r\nmg ${"k".repeat(251)}\r\n` +
      `ms k 1 ${"a ".repeat(17)}\r\nms k 1 b\r\nx\r\n`,
    [
      invalid("ERROR"),
      invalid("BAD_COMMAND_LINE_FORMAT"),
      invalid("BAD_COMMAND_LINE_FORMAT"),
      invalid("BAD_COMMAND_LINE_FORMAT"),
      invalid("BAD_COMMAND_LINE_FORMAT"),
      invalid("META_OPTIONS_TOO_LONG"),
      meta("ms", "k", ["b"], { data: "x" }),
    ],
  );
});

Deno.test("RequestParser answers unknown and malformed lines with ERROR", () => {
  expectFrames(
    "\r\n\n \r\nx\r\nfoo bar\r\nset k 0 0\r\nset k 0 0 1 noreply extra\r\nget\r\ngetx a\r\n" +
      "a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n" +
      // Words a byte away from get, set and gets; memcached's names are case-sensitive.
      "gex a\r\nxet a\r\ngetz a\r\nGET a\r\n",
    [
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
      invalid("ERROR"),
    ],
  );
});

Deno.test("RequestParser refuses a bad storage line and reads its data as the next command", () => {
  expectFrames(
    "set k 0 0 abc\r\nhello\r\nset k 0 0 -1\r\nget k\r\nset k 0 0 1 noreply\r\nh\r\n" +
      `set ${"k".repeat(251)} 0 0 1\r\nh\r\nset k 0 0 noreply\r\n`,
    [
      invalid("BAD_COMMAND_LINE_FORMAT"),
      invalid("ERROR"),
      invalid("BAD_COMMAND_LINE_FORMAT"),
      retrieval("get", ["k"]),
      storage("set", "k", "h", { noreply: true }),
      invalid("BAD_COMMAND_LINE_FORMAT"),
      invalid("ERROR"),
      invalid("BAD_COMMAND_LINE_FORMAT", true),
    ],
  );
});

Deno.test("RequestParser reads numbers as memcached does, 32-bit truncation included", () => {
  expectFrames(
    "set k 4294967297 0 1\r\nh\r\nset k -0 0 4294967301\r\nhello\r\nset k 0 +5 1\r\nh\r\n",
    [
      storage("set", "k", "h", { flags: 1 }),
      storage("set", "k", "hello"),
      storage("set", "k", "h", { exptime: 5 }),
    ],
  );
});

Deno.test("RequestParser reports a data block not ended by CRLF and stays in step", () => {
  expectFrames("set k 0 0 5\r\nhelloXX\r\nget k\r\n", [
    storage("set", "k", "", { status: "bad_chunk" }),
    invalid("ERROR"),
    retrieval("get", ["k"]),
  ]);
  expectFrames("append k 0 0 1 noreply\r\nij\r\nget k\r\n", [
    storage("append", "k", "", { status: "bad_chunk", noreply: true }),
    invalid("ERROR"),
    retrieval("get", ["k"]),
  ]);
});

Deno.test("RequestParser skips the data of an item over the size limit without buffering it", () => {
  const options = { maxItemSize: 1024 };
  // 48 + 8 + key 1 + 1 + value + 2 <= 1024: the largest value is 964 bytes.
  const fits = "x".repeat(964);
  const big = "y".repeat(965);
  expectFrames(`set k 0 0 964\r\n${fits}\r\nset k 0 0 965\r\n${big}\r\nget k\r\n`, [
    storage("set", "k", fits),
    storage("set", "k", "", { status: "too_large" }),
    retrieval("get", ["k"]),
  ], options);
  // memcached answers a refused set once it has skipped the data: the request comes then.
  const parser = new RequestParser(options);
  parser.push(bytes("set k 0 0 100000\r\n"));
  assert.equal(parser.next(), undefined);
  for (let i = 0; i < 100; i++) {
    parser.push(new Uint8Array(1000));
    assert.equal(parser.next(), undefined);
    assert.equal(parser.buffered, 0);
  }
  parser.push(bytes("\r\nversion\r\n"));
  assert.deepEqual(snapshot(parser.next()), storage("set", "k", "", { status: "too_large" }));
  assert.deepEqual(parser.next(), { type: "version" });
});

Deno.test("RequestParser gives memcached's item size boundary for -I 1m", () => {
  const status = (line: string, length: number, options?: RequestParserOptions) => {
    const parser = new RequestParser(options);
    parser.push(bytes(`${line} ${length}\r\n${"x".repeat(length)}\r\n`));
    return (parser.next() as { status: string }).status;
  };
  assert.equal(status("set k 0 0", 1048516), "ok");
  assert.equal(status("set k 0 0", 1048517), "too_large");
  assert.equal(status("set k 1 0", 1048513), "too_large");
  assert.equal(status("set k 0 0", 1048524, { useCas: false }), "ok");
});

Deno.test("RequestParser stops a line at a NUL byte, as memcached's C strings do", () => {
  expectFrames("set k\0junk 0 0 1\r\nh\r\nget a\0b\r\n", [
    invalid("ERROR"),
    invalid("ERROR"),
    retrieval("get", ["a"]),
  ]);
});

Deno.test("RequestParser ends a key list at an over-long key with memcached's error", () => {
  expectFrames(`get a b ${"x".repeat(251)} c\r\nget ${"y".repeat(250)}\r\n`, [
    retrieval("get", ["a", "b"], { badKey: true }),
    retrieval("get", ["y".repeat(250)]),
  ]);
});

Deno.test("RequestParser accepts keys with control characters, as memcached does", () => {
  expectFrames("get a\x01\x10\x7f\r\n", [retrieval("get", ["a\x01\x10\x7f"])]);
});

Deno.test("RequestParser throws ProtocolError on 2049 bytes with no newline", () => {
  const parser = new RequestParser();
  parser.push(bytes("x".repeat(2048)));
  assert.equal(parser.next(), undefined);
  parser.push(bytes("x"));
  assert.throws(() => parser.next(), ProtocolError);
  const set = new RequestParser();
  set.push(bytes(`set ${"k".repeat(3000)}`));
  assert.throws(() => set.next(), ProtocolError);
});

Deno.test("RequestParser throws ProtocolError on an unknown command whose last token is HTTP/", () => {
  for (
    const line of [
      "GET / HTTP/1.1",
      "POST /x HTTP/1.0",
      "HTTP/1.1",
      `xx ${"a ".repeat(21)}HTTP/1 y`,
    ]
  ) {
    for (const [how, chunks] of feedings(bytes(`version\r\n${line}\r\n`))) {
      const parser = new RequestParser();
      assert.throws(() => drain(parser, chunks), ProtocolError, `${line} fed ${how}`);
    }
  }
  // memcached's earlier branches answer these ERROR, as does a last token that is not HTTP/.
  expectFrames(
    "gxx HTTP/1.1\r\nmz HTTP/1.1\r\nlru HTTP/1.1\r\nxx HTTP\r\nxx HTTP/1 x\r\n",
    [invalid("ERROR"), invalid("ERROR"), invalid("ERROR"), invalid("ERROR"), invalid("ERROR")],
  );
});

Deno.test("RequestParser tells a wait for a data block from a wait for a command line", () => {
  const parser = new RequestParser({ maxItemSize: 1024 });
  const step = (text: string) => {
    parser.push(bytes(text));
    while (parser.next() !== undefined);
    return parser.inDataBlock;
  };
  assert.equal(step("set k 0 0"), false);
  assert.equal(step(" 5\r\nab"), true);
  assert.equal(step("cde\r"), true);
  assert.equal(step("\nget k"), false);
  assert.equal(step("\r\nset k 0 0 2000\r\nxy"), true, "skipping a refused block");
  assert.equal(step("z".repeat(1998) + "\r\n"), false);
});

Deno.test("RequestParser reads as memcached does: 16 KiB, then the rest of a data block", () => {
  const parser = new RequestParser({ maxItemSize: 64 * 1024 });
  const drained = () => {
    while (parser.next() !== undefined);
    return parser.readSize();
  };
  assert.equal(parser.readSize(), 16384);
  parser.push(bytes("get k\r\nset k 0 0"));
  assert.equal(drained(), 16384 - "set k 0 0".length, "fills the buffer around a partial line");
  parser.push(bytes(" 20000\r\n" + "x".repeat(100)));
  assert.equal(drained(), 20000 - 100 + 2, "the rest of the block and its CRLF");
  parser.push(bytes("x".repeat(19900) + "\r\nset k 0 0 70000\r\nab"));
  assert.equal(drained(), 16384, "skipping a refused block, a buffer at a time");
  parser.push(bytes("x".repeat(16384)));
  assert.equal(drained(), 16384);
  parser.push(bytes("x".repeat(70002 - 2 - 16384 - 100)));
  assert.equal(drained(), 100, "the last of the refused block");
});

Deno.test("RequestParser buffers a long get key list until its newline, within its bound", () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `key:${i}`);
  const line = bytes(`get ${keys.join(" ")}\r\n`);
  const parser = new RequestParser();
  for (let i = 0; i < line.length; i += 1000) {
    parser.push(line.subarray(i, i + 1000));
    const frame = parser.next();
    if (i + 1000 < line.length) assert.equal(frame, undefined);
    else assert.deepEqual((frame as { keys: Uint8Array[] }).keys.length, 10_000);
  }
  const bounded = new RequestParser({ maxKeyListLength: 4096 });
  bounded.push(line.subarray(0, 4097));
  assert.throws(() => bounded.next(), ProtocolError);
});

Deno.test("RequestParser reads straight into its buffer with reserve and commit", () => {
  const parser = new RequestParser();
  const input = bytes("set k 0 0 2\r\nhi\r\n");
  const room = parser.reserve(input.length);
  assert.ok(room.length >= input.length);
  room.set(input);
  parser.commit(input.length);
  assert.equal((parser.next() as { type: string }).type, "storage");
  assert.throws(() => parser.commit(1 << 30), RangeError);
});

/** A budget of `free` bytes that records what it lent. */
function budget(free: number) {
  return {
    free,
    take(n: number): boolean {
      if (n > this.free) return false;
      this.free -= n;
      return true;
    },
    give(n: number): void {
      this.free += n;
    },
  };
}

Deno.test("RequestParser takes an unfinished data block's bytes from its budget and gives them back", () => {
  const pool = budget(100);
  const parser = new RequestParser({ budget: pool });
  parser.push(bytes("set k 0 0 10\r\nhello"));
  assert.equal(parser.next(), undefined);
  assert.equal(pool.free, 88);
  parser.push(bytes("world\r\nset j 0 0 1\r\nx\r\n"));
  assert.deepEqual(snapshot(parser.next()), storage("set", "k", "helloworld"));
  assert.equal(pool.free, 100);
  // A block that is all here at once is used at once and takes nothing.
  assert.deepEqual(snapshot(parser.next()), storage("set", "j", "x"));
  assert.equal(pool.free, 100);
  parser.push(bytes("set k 0 0 10\r\nhel"));
  assert.equal(parser.next(), undefined);
  assert.equal(pool.free, 88);
  parser.dispose();
  assert.equal(pool.free, 100);
});

Deno.test("RequestParser refuses a data block its budget cannot hold and skips it unbuffered", () => {
  for (
    const [how, chunks] of feedings(bytes("set k 0 0 60\r\n" + "v".repeat(60) + "\r\nget k\r\n"))
  ) {
    const pool = budget(50);
    const parser = new RequestParser({ budget: pool });
    const frames = drain(parser, chunks);
    // A block that arrives with its line (split before the line's end or after the block's) needs no budget.
    const whole = chunks.length === 2 && (chunks[0].length < 14 || chunks[0].length >= 76) ||
      chunks.length === 1;
    assert.deepEqual(frames, [
      storage("set", "k", whole ? "v".repeat(60) : "", whole ? {} : { status: "no_memory" }),
      retrieval("get", ["k"]),
    ], `fed ${how}`);
    assert.equal(pool.free, 50, `fed ${how}`);
    assert.ok(parser.buffered < 64, `fed ${how}: the refused block was buffered`);
  }
});
