import assert from "node:assert/strict";
import { bytes } from "../tests/_feed.ts";
import { seededRandom as random } from "../tests/_keys.ts";
import { ProtocolError } from "./errors.ts";
import { RequestParser } from "./request_parser.ts";
import { ResponseParser } from "./response_parser.ts";

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
