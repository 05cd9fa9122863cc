import assert from "node:assert/strict";
import { bytes, snapshot } from "../tests/_feed.ts";
import { seededRandom as random } from "../tests/_keys.ts";
import { ProtocolError } from "./errors.ts";
import { RequestParser } from "./request_parser.ts";
import { ResponseParser, ValueSpan } from "./response_parser.ts";

// deno-fmt-ignore
const REQUEST_WORDS = [
  "set", "add", "replace", "append", "prepend", "cas", "get", "gets", "gat", "gats", "delete",
  "incr", "decr", "touch", "flush_all", "stats", "version", "verbosity", "quit", "shutdown", "mg",
  "ms", "md", "ma", "mn", "me", "noreply", "0", "1", "5", "-1", "4294967301", "100000", "k", "key",
  "18446744073709551616", "T10", "v", "b",
];
// deno-fmt-ignore
const RESPONSE_WORDS = [
  "VALUE", "END", "STORED", "STAT", "VERSION", "ERROR", "CLIENT_ERROR", "SERVER_ERROR", "HD", "VA",
  "EN", "MN", "ME", "0", "1", "3", "5", "k", "abc", "OK", "18446744073709551615",
];

/** Random input: words, separators, line ends and raw bytes, mixed. */
function input(next: () => number, words: string[], length: number): Uint8Array {
  const out: number[] = [];
  while (out.length < length) {
    const r = next();
    if (r < 0.45) out.push(...bytes(words[Math.floor(next() * words.length)]));
    else if (r < 0.7) out.push(0x20);
    else if (r < 0.82) out.push(0x0d, 0x0a);
    else if (r < 0.85) out.push(0x0a);
    else if (r < 0.99) out.push(Math.floor(next() * 256));
    else for (let i = Math.floor(next() * 3000); i > 0; i--) out.push(0x78);
  }
  return Uint8Array.from(out);
}

interface Parser {
  push(chunk: Uint8Array): void;
  next(): unknown;
  readonly buffered: number;
}

/** Feeds `data` in random chunks; checks the parser's promises after every push. */
function hammer(make: () => Parser, data: Uint8Array, next: () => number, bound: number): void {
  let parser = make();
  let at = 0;
  while (at < data.length) {
    const size = 1 + Math.floor(next() * 512);
    const chunk = data.subarray(at, at + size);
    at += chunk.length;
    parser.push(chunk);
    const before = parser.buffered;
    let frames = 0;
    try {
      while (parser.next() !== undefined) {
        frames++;
        // Every frame consumes at least one byte, so the loop must end.
        assert.ok(frames <= before, "the parser produced more frames than it had bytes");
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      parser = make();
      continue;
    }
    assert.ok(parser.buffered <= bound, `buffered ${parser.buffered} bytes, over ${bound}`);
  }
}

Deno.test("RequestParser on seeded random bytes throws only ProtocolError and stays bounded", () => {
  const maxItemSize = 4096;
  const maxKeyListLength = 16384;
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const data = input(next, REQUEST_WORDS, 4000 + Math.floor(next() * 8000));
    hammer(
      () => new RequestParser({ maxItemSize, maxKeyListLength }),
      data,
      next,
      maxKeyListLength + maxItemSize + 4096,
    );
  }
});

Deno.test("RequestParser holds no more than a line and one item, however large the stream", () => {
  const next = random(7);
  const maxItemSize = 4096;
  const parser = new RequestParser({ maxItemSize });
  for (let i = 0; i < 2000; i++) {
    const size = Math.floor(next() * 20000);
    parser.push(bytes(`set k${i} 0 0 ${size}\r\n`));
    for (let sent = 0; sent < size + 2; sent += 1000) {
      parser.push(new Uint8Array(Math.min(1000, size + 2 - sent)).fill(0x0d));
      while (parser.next() !== undefined);
      assert.ok(parser.buffered <= maxItemSize + 1000 + 64, `buffered ${parser.buffered}`);
    }
  }
});

Deno.test("ResponseParser on seeded random bytes throws only ProtocolError and stays bounded", () => {
  const maxValueLength = 4096;
  const maxLineLength = 1024;
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const data = input(next, RESPONSE_WORDS, 4000 + Math.floor(next() * 8000));
    hammer(
      () => new ResponseParser({ maxValueLength, maxLineLength }),
      data,
      next,
      maxLineLength + maxValueLength + 512 + 2,
    );
  }
});

/** VALUE frames as memcached writes them, then END, with a few bytes changed at random. */
function valueReplies(next: () => number): Uint8Array {
  const out: number[] = [];
  for (let frames = Math.floor(next() * 40); frames > 0; frames--) {
    // Some keys make the line longer than the 64-byte limit the test sets.
    const keyLength = next() < 0.2 ? 40 + Math.floor(next() * 30) : 1 + Math.floor(next() * 12);
    const key = Array.from({ length: keyLength }, () => 0x61 + Math.floor(next() * 26));
    const size = Math.floor(next() * 300);
    // A size of 15 or more digits, now and then: over the limit, or no number at all.
    const sizeText = next() < 0.03 ? "9".repeat(14 + Math.floor(next() * 4)) : String(size);
    const cas = next() < 0.3 ? ` ${Math.floor(next() * 1e9)}` : "";
    out.push(
      ...bytes("VALUE "),
      ...key,
      ...bytes(` ${Math.floor(next() * 70000)} ${sizeText}${cas}\r\n`),
    );
    for (let i = 0; i < size; i++) out.push(next() < 0.05 ? 0x0d : 0x61 + Math.floor(next() * 26));
    out.push(0x0d, 0x0a);
  }
  out.push(...bytes("END\r\n"));
  for (let changes = Math.floor(next() * 4); changes > 0; changes--) {
    const at = Math.floor(next() * out.length);
    const r = next();
    if (r < 0.4) out[at] = Math.floor(next() * 256);
    else if (r < 0.7) out.splice(at, 0, [0x20, 0x0d, 0x0a, 0x30][Math.floor(next() * 4)]);
    else out.splice(at, 1);
  }
  return Uint8Array.from(out);
}

/** Every frame `read` gives for `data` fed in the chunks `sizes` cuts, then the error, if any. */
function readAll(
  data: Uint8Array,
  sizes: number[],
  read: (parser: ResponseParser, span: ValueSpan) => unknown,
): unknown[] {
  const parser = new ResponseParser({ maxValueLength: 200, maxLineLength: 64 });
  const span = new ValueSpan();
  const frames: unknown[] = [];
  let at = 0;
  for (const size of sizes) {
    parser.push(data.subarray(at, at + size));
    at += size;
    try {
      for (let frame = read(parser, span); frame !== undefined; frame = read(parser, span)) {
        frames.push(snapshot(frame));
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      frames.push("ProtocolError");
      return frames;
    }
  }
  return frames;
}

Deno.test("ResponseParser.nextValue reads what next reads, frame for frame and error for error", () => {
  const byNext = (parser: ResponseParser) => parser.next();
  const byValue = (parser: ResponseParser, span: ValueSpan) => {
    if (!parser.nextValue(span)) return parser.next();
    const buf = span.buffer;
    return {
      type: "value",
      key: buf.subarray(span.keyStart, span.keyEnd),
      flags: span.flags,
      cas: span.cas,
      data: buf.subarray(span.dataStart, span.dataEnd),
    };
  };
  for (let seed = 1; seed <= 500; seed++) {
    const next = random(seed);
    const data = valueReplies(next);
    const sizes: number[] = [];
    for (let left = data.length; left > 0;) {
      const size = Math.min(left, 1 + Math.floor(next() * 400));
      sizes.push(size);
      left -= size;
    }
    assert.deepEqual(readAll(data, sizes, byValue), readAll(data, sizes, byNext), `seed ${seed}`);
  }
});
