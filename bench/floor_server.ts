// The floor under scenarios (a), (c) and (d): a Deno.listen server that does
// the least a memcached server can do. It parses just enough of each request
// to answer it, keeps no store, answers every key of a get with the same
// 100-byte value and every storage command with STORED. Whatever our server
// costs above this is ours; what this costs against memcached is the runtime's.
//
//   deno run -A bench/floor_server.ts --port=P
import { parseArgs } from "node:util";

const args = parseArgs({ args: Deno.args, options: { port: { type: "string" } } });
const encoder = new TextEncoder();
const VALUE = encoder.encode("VALUE ");
const VALUE_TAIL = encoder.encode(` 0 100\r\n${"x".repeat(100)}\r\n`);
const END = encoder.encode("END\r\n");
const STORED = encoder.encode("STORED\r\n");
const SPACE = 32;
const NEWLINE = 10;

/** Answers the complete requests in `input`; returns how many bytes it consumed. */
function answer(input: Uint8Array, out: { buf: Uint8Array; length: number }): number {
  let pos = 0;
  while (pos < input.length) {
    const at = input.subarray(pos).indexOf(NEWLINE);
    if (at < 0) break;
    const eol = pos + at;
    const lineEnd = input[eol - 1] === 13 ? eol - 1 : eol;
    if (input[pos] === 103 /* g */) {
      let k = pos + 4;
      while (k < lineEnd) {
        let e = k;
        while (e < lineEnd && input[e] !== SPACE) e++;
        if (e > k) {
          put(out, VALUE);
          put(out, input.subarray(k, e));
          put(out, VALUE_TAIL);
        }
        k = e + 1;
      }
      put(out, END);
      pos = eol + 1;
    } else {
      let sp = lineEnd - 1;
      while (sp > pos && input[sp] !== SPACE) sp--;
      let length = 0;
      for (let i = sp + 1; i < lineEnd; i++) length = length * 10 + input[i] - 48;
      if (eol + 1 + length + 2 > input.length) break;
      pos = eol + 1 + length + 2;
      put(out, STORED);
    }
  }
  return pos;
}

function put(out: { buf: Uint8Array; length: number }, bytes: Uint8Array): void {
  if (out.length + bytes.length > out.buf.length) {
    const grown = new Uint8Array(Math.max(out.buf.length * 2, out.length + bytes.length));
    grown.set(out.buf.subarray(0, out.length));
    out.buf = grown;
  }
  out.buf.set(bytes, out.length);
  out.length += bytes.length;
}

async function serveConnection(conn: Deno.TcpConn): Promise<void> {
  let input = new Uint8Array(64 * 1024);
  let have = 0;
  const out = { buf: new Uint8Array(64 * 1024), length: 0 };
  try {
    while (true) {
      if (have === input.length) {
        const grown = new Uint8Array(input.length * 2);
        grown.set(input);
        input = grown;
      }
      const n = await conn.read(input.subarray(have));
      if (n === null) break;
      have += n;
      const used = answer(input.subarray(0, have), out);
      input.copyWithin(0, used, have);
      have -= used;
      for (let sent = 0; sent < out.length;) {
        sent += await conn.write(out.buf.subarray(sent, out.length));
      }
      out.length = 0;
    }
  } catch { /* the client went away */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(args.values.port) });
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
for await (const conn of listener) {
  conn.setNoDelay(true);
  void serveConnection(conn);
}
