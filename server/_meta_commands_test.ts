import assert from "node:assert/strict";
import { RequestParser } from "../protocol/request_parser.ts";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import { ManualClock } from "./clock.ts";
import { Store } from "./_store.ts";
import { base64Decode, base64Encode } from "./_base64.ts";
import { MetaHandler } from "./_meta_commands.ts";
import { ServerStats } from "./_stats.ts";
import { SETTINGS } from "./_test_utils.ts";

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** A store, a clock, and a function that runs meta lines and returns the replies. */
function setup() {
  const clock = new ManualClock();
  const store = new Store({ clock });
  const stats = new ServerStats(clock, SETTINGS, () => undefined);
  const handler = new MetaHandler(store, stats);
  const run = (text: string): string => {
    const parser = new RequestParser();
    parser.push(Uint8Array.from(text, (c) => c.charCodeAt(0)));
    const out = new WriteBuffer();
    for (let request = parser.next(); request !== undefined; request = parser.next()) {
      assert.equal(request.type, "meta", `Cannot run ${JSON.stringify(text)}: not a meta line`);
      if (request.type === "meta") handler.handle(request, out);
    }
    return latin1(out.view());
  };
  return { clock, store, stats, run };
}

Deno.test("base64Encode and base64Decode round-trip every length, as memcached's base64.c", () => {
  for (let n = 1; n < 20; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    const encoded = base64Encode(bytes);
    assert.equal(latin1(encoded), btoa(latin1(bytes)));
    assert.deepEqual(base64Decode(encoded), bytes);
  }
  const enc = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
  // Bytes outside the alphabet are skipped; a count not a multiple of 4 or bad padding fails.
  assert.equal(latin1(base64Decode(enc("Y!W!J!j"))!), "abc");
  assert.equal(base64Decode(enc("YWJ")), undefined);
  assert.equal(base64Decode(enc("A===")), undefined);
  assert.equal(base64Decode(enc("")), undefined);
});

Deno.test("MetaHandler mg reports ttl and last access by the injected clock", () => {
  const { clock, run } = setup();
  assert.equal(run("ms k 2 T100\r\nhi\r\n"), "HD\r\n");
  clock.advance(30);
  assert.equal(run("mg k t l h\r\n"), "HD t70 l30 h0\r\n");
  assert.equal(run("mg k t l h\r\n"), "HD t70 l0 h1\r\n");
  clock.advance(5);
  assert.equal(run("mg k T10 t\r\n"), "HD t10\r\n");
  // R wins when the ttl left is below its token, once.
  assert.equal(run("mg k R20\r\nmg k R20\r\n"), "HD W\r\nHD Z\r\n");
  clock.advance(11);
  assert.equal(run("mg k\r\n"), "EN\r\n");
});

Deno.test("MetaHandler me prints exp and la from the clock, and the item's class and size", () => {
  const { clock, store, run } = setup();
  run("ms k 5 T100\r\nhello\r\n");
  clock.advance(7);
  const slot = store.peek(new TextEncoder().encode("k"));
  assert.equal(
    run("me k\r\n"),
    `ME k exp=-93 la=7 cas=${store.items.casUnique(slot)} fetch=no cls=1 size=65\r\n`,
  );
});

Deno.test("MetaHandler ms I stores an older cas as stale, keeping the ttl, and md I marks stale", () => {
  const { store, run } = setup();
  // Stored twice, so cas 1 is older than the item's.
  run("ms k 1 T100\r\na\r\nms k 1 T100\r\na\r\n");
  const key = new TextEncoder().encode("k");
  const cas = store.items.casUnique(store.peek(key));
  assert.equal(run(`ms k 1 C${cas + 1} I\r\nb\r\n`), "EX\r\n");
  assert.equal(run("ms k 1 C0 I\r\nb\r\n"), "EX\r\n");
  assert.equal(run("ms k 1 C1 I T5 c\r\nb\r\n"), `HD c${cas + 1}\r\n`);
  assert.equal(run("mg k t v\r\nmg k v\r\n"), "VA 1 t100 X W\r\nb\r\nVA 1 Z X\r\nb\r\n");
  assert.equal(
    run("ms k 1\r\nc\r\nmd k I T30 q\r\nmg k t c\r\n"),
    `HD\r\nHD t30 c${cas + 3} X W\r\n`,
  );
});

Deno.test("MetaHandler ma creates, counts and refuses as memcached", () => {
  const { store, run } = setup();
  assert.equal(
    run("ma n\r\nma n N0 J9 v q\r\nma n q v\r\nma n MD D20 v\r\n"),
    "NF\r\nVA 1\r\n9\r\nVA 1\r\n0\r\n",
  );
  assert.equal(store.stats().incrMisses, 1);
  assert.equal(
    run("ma n Mx\r\nma n D-1\r\nma n v v\r\n"),
    [
      "CLIENT_ERROR invalid mode for ma M token",
      "CLIENT_ERROR invalid or duplicate flag",
      "CLIENT_ERROR invalid or duplicate flag",
      "",
    ].join("\r\n"),
  );
});

Deno.test("MetaHandler counts me alone in cmd_meta, as memcached 1.6.18 does", () => {
  const { stats, run } = setup();
  run("mg a\r\nms a 1\r\nx\r\nmd a\r\nma a\r\nmn\r\nme a\r\nme b\r\n");
  assert.equal(stats.cmdMeta, 2);
});
