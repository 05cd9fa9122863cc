import assert from "node:assert/strict";
import { AuthError } from "../protocol/errors.ts";
import { ResponseParser } from "../protocol/response_parser.ts";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import { authReader, writeAuth } from "./_auth.ts";

function reply(text: string) {
  const parser = new ResponseParser();
  parser.push(new TextEncoder().encode(text));
  const frame = parser.next();
  assert.ok(frame !== undefined);
  return frame;
}

Deno.test("writeAuth sends a set of the client's own key, expired at once, whose data is user and password", () => {
  const out = new WriteBuffer();
  writeAuth(out, { username: "alice", password: "pa:ss\tword" });
  assert.equal(
    new TextDecoder().decode(out.view()),
    "set @x/memcache/auth 0 -1 16\r\nalice pa:ss\tword\r\n",
  );
});

Deno.test("authReader takes STORED and turns any other reply into an AuthError naming it", () => {
  const reader = authReader("127.0.0.1:11211", "alice");
  assert.deepEqual(reader.frame(reply("STORED\r\n")), { value: true });
  const refused = reader.frame(reply("NOT_STORED\r\n"));
  assert.ok("error" in refused && refused.error instanceof AuthError);
  assert.equal(refused.error.line, "NOT_STORED");
  assert.equal(refused.error.server, "127.0.0.1:11211");
  assert.equal(
    refused.error.message,
    'Cannot authenticate to 127.0.0.1:11211 as "alice": the server answered "NOT_STORED"',
  );
});
