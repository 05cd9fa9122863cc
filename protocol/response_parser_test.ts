import assert from "node:assert/strict";
import { bytes, drain, feedings, snapshot } from "../tests/_feed.ts";
import { ProtocolError } from "./errors.ts";
import { ResponseParser, type ResponseParserOptions, ValueSpan } from "./response_parser.ts";

/** As `drain`, but each VALUE frame is read by `nextValue`, the rest by `next`. */
function drainSpans(parser: ResponseParser, chunks: Uint8Array[]): unknown[] {
  const frames: unknown[] = [];
  const span = new ValueSpan();
  for (const chunk of chunks) {
    parser.push(chunk);
    for (;;) {
      if (parser.nextValue(span)) {
        const buf = span.buffer;
        frames.push(snapshot({
          type: "value",
          key: buf.subarray(span.keyStart, span.keyEnd),
          flags: span.flags,
          cas: span.cas,
          data: buf.subarray(span.dataStart, span.dataEnd),
        }));
        continue;
      }
      const frame = parser.next();
      if (frame === undefined) break;
      frames.push(snapshot(frame));
    }
  }
  return frames;
}

/** Both ways of reading, `next` alone and `nextValue` first, give `expected`. */
function expectFrames(input: string, expected: unknown[], options?: ResponseParserOptions): void {
  for (const [how, chunks] of feedings(bytes(input))) {
    for (const read of [drain, drainSpans]) {
      const parser = new ResponseParser(options);
      assert.deepEqual(read(parser, chunks), expected, `fed ${how}, read by ${read.name}`);
      assert.equal(parser.buffered, 0, `fed ${how}, read by ${read.name}: bytes left over`);
    }
  }
}

function expectThrows(input: string, options?: ResponseParserOptions): void {
  for (const [how, chunks] of feedings(bytes(input))) {
    for (const read of [drain, drainSpans]) {
      const parser = new ResponseParser(options);
      assert.throws(() => read(parser, chunks), ProtocolError, `fed ${how}, read by ${read.name}`);
    }
  }
}

Deno.test("ResponseParser reads VALUE blocks with and without cas, then END", () => {
  expectFrames("VALUE a 0 5\r\nhello\r\nVALUE b 4294967295 0 18446744073709551615\r\n\r\nEND\r\n", [
    { type: "value", key: "a", flags: 0, cas: undefined, data: "hello" },
    { type: "value", key: "b", flags: 4294967295, cas: 18446744073709551615n, data: "" },
    { type: "end" },
  ]);
});

Deno.test("ResponseParser.nextValue reads whole VALUE frames into a span and leaves the rest", () => {
  const parser = new ResponseParser();
  const span = new ValueSpan();
  const text = (from: number, to: number) => String.fromCharCode(...span.buffer.subarray(from, to));
  parser.push(
    bytes("VALUE a 7 5\r\nhello\r\nVALUE b\xc3\xa9 0 2 42\r\nhi\r\nEND\r\nVALUE c 0 3\r\nab"),
  );
  assert.equal(parser.nextValue(span), true);
  assert.deepEqual(
    [text(span.keyStart, span.keyEnd), span.flags, span.cas, text(span.dataStart, span.dataEnd)],
    ["a", 7, undefined, "hello"],
  );
  assert.equal(parser.nextValue(span), true);
  assert.deepEqual(
    [text(span.keyStart, span.keyEnd), span.flags, span.cas, text(span.dataStart, span.dataEnd)],
    ["b\xc3\xa9", 0, 42n, "hi"],
  );
  assert.equal(parser.nextValue(span), false);
  assert.deepEqual(parser.next(), { type: "end" });
  // Not all buffered: nothing is consumed until the rest comes.
  assert.equal(parser.nextValue(span), false);
  assert.equal(parser.next(), undefined);
  parser.push(bytes("c\r\n"));
  assert.equal(parser.nextValue(span), true);
  assert.equal(text(span.dataStart, span.dataEnd), "abc");
  assert.equal(parser.buffered, 0);
});

Deno.test("ResponseParser reads a VALUE line at the line limit the same by next and nextValue", () => {
  // maxLineLength counts the line with its CRLF: 16 here. Keys put the CR at 12 to 17.
  for (let keyLength = 1; keyLength <= 6; keyLength++) {
    const input = `VALUE ${"k".repeat(keyLength)} 0 1\r\nv\r\n`;
    const outcome = (read: (parser: ResponseParser, chunks: Uint8Array[]) => unknown[]) => {
      try {
        return read(new ResponseParser({ maxLineLength: 16 }), [bytes(input)]);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        return "ProtocolError";
      }
    };
    assert.deepEqual(outcome(drainSpans), outcome(drain), `a key of ${keyLength}`);
  }
});

Deno.test("ResponseParser keeps value bytes exact, CRLF inside included", () => {
  expectFrames("VALUE k 2 4\r\n\r\n\r\n\r\nEND\r\n", [
    { type: "value", key: "k", flags: 2, cas: undefined, data: "\r\n\r\n" },
    { type: "end" },
  ]);
});

Deno.test("ResponseParser reads every one-word status", () => {
  const words = [
    "STORED",
    "NOT_STORED",
    "EXISTS",
    "NOT_FOUND",
    "DELETED",
    "TOUCHED",
    "OK",
    "RESET",
  ];
  expectFrames(
    words.map((w) => `${w}\r\n`).join(""),
    words.map((status) => ({ type: "status", status })),
  );
});

Deno.test("ResponseParser reads incr/decr numbers up to 2^64-1", () => {
  expectFrames("0\r\n778\r\n18446744073709551615\r\n", [
    { type: "number", value: 0n },
    { type: "number", value: 778n },
    { type: "number", value: 18446744073709551615n },
  ]);
});

Deno.test("ResponseParser reads STAT lines and VERSION", () => {
  expectFrames("STAT pid 42\r\nSTAT libevent 2.1.12-stable x\r\nEND\r\nVERSION 1.6.18\r\n", [
    { type: "stat", name: "pid", value: "42" },
    { type: "stat", name: "libevent", value: "2.1.12-stable x" },
    { type: "end" },
    { type: "version", version: "1.6.18" },
  ]);
});

Deno.test("ResponseParser reads ERROR, CLIENT_ERROR and SERVER_ERROR with their messages", () => {
  expectFrames(
    "ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR object too large for cache\r\n" +
      "ERROR: shutdown not enabled\r\n",
    [
      { type: "error", kind: "ERROR", message: "" },
      { type: "error", kind: "CLIENT_ERROR", message: "bad data chunk" },
      { type: "error", kind: "SERVER_ERROR", message: "object too large for cache" },
      { type: "error", kind: "ERROR", message: "shutdown not enabled" },
    ],
  );
});

Deno.test("ResponseParser reads meta replies with their flags and the VA data block", () => {
  expectFrames(
    "HD\r\nHD c5 Oabc\r\nVA 2 f0 t-1\r\nhi\r\nEN\r\nNF\r\nNS\r\nEX\r\nMN\r\n" +
      "ME k exp=-1 la=0 cas=2 fetch=no cls=1 size=63\r\nVA 0\r\n\r\n",
    [
      { type: "meta", code: "HD", flags: [], data: "" },
      { type: "meta", code: "HD", flags: ["c5", "Oabc"], data: "" },
      { type: "meta", code: "VA", flags: ["f0", "t-1"], data: "hi" },
      { type: "meta", code: "EN", flags: [], data: "" },
      { type: "meta", code: "NF", flags: [], data: "" },
      { type: "meta", code: "NS", flags: [], data: "" },
      { type: "meta", code: "EX", flags: [], data: "" },
      { type: "meta", code: "MN", flags: [], data: "" },
      {
        type: "meta",
        code: "ME",
        flags: ["k", "exp=-1", "la=0", "cas=2", "fetch=no", "cls=1", "size=63"],
        data: "",
      },
      { type: "meta", code: "VA", flags: [], data: "" },
    ],
  );
});

Deno.test("ResponseParser refuses what no memcached sends", () => {
  for (
    const input of [
      "HELLO\r\n",
      "STORED\n",
      "VALUE k 0 5\r\nhelloXX",
      "VALUE k x 5\r\nhello\r\n",
      "VALUE k 0\r\n",
      "VALUE k 0 1 x\r\nh\r\n",
      "VALUE\r\n",
      "VALUE  k 0 1\r\nh\r\n",
      "VALUE k 0 1x\r\nh\r\n",
      "VALUE k 4294967296 1\r\nh\r\n",
      "VALUE k 0 1 \r\nh\r\n",
      "VALUE k 0 1\nh\r\n",
      "12a\r\n",
      "18446744073709551616\r\n",
      "STAT pid\r\n",
      "VERSION\r\n",
      "VA x\r\n",
      "HD  c1\r\n",
      "END x\r\n",
    ]
  ) {
    expectThrows(input);
  }
});

Deno.test("ResponseParser enforces its line and value limits", () => {
  const lines = new ResponseParser({ maxLineLength: 16 });
  lines.push(bytes("STAT aaaaaaaaaaaaaaaa"));
  assert.throws(() => lines.next(), ProtocolError);
  const values = new ResponseParser({ maxValueLength: 4 });
  values.push(bytes("VALUE k 0 5\r\n"));
  assert.throws(() => values.next(), ProtocolError);
  assert.equal(values.nextValue(new ValueSpan()), false);
  const long = new ResponseParser({ maxLineLength: 16 });
  long.push(bytes("VALUE kkkkkkkkkkkkkkkk 0 1\r\nh\r\n"));
  assert.equal(long.nextValue(new ValueSpan()), false);
  assert.throws(() => long.next(), ProtocolError);
  expectFrames("VALUE k 0 4\r\nabcd\r\n", [
    { type: "value", key: "k", flags: 0, cas: undefined, data: "abcd" },
  ], { maxValueLength: 4 });
});
