import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import {
  FLAG_COMPRESSED,
  FLAG_INTEGER,
  FLAG_PICKLE,
  FLAG_SERIALIZED,
  FLAG_TEXT,
  ValueCodec,
  ValueFlagsError,
} from "./codec.ts";

const text = new TextEncoder();

Deno.test("ValueCodec stores each kind of value with python-memcached's flags", () => {
  const codec = new ValueCodec();
  assert.deepEqual(codec.encode(new Uint8Array([1, 2])), {
    flags: 0,
    data: new Uint8Array([1, 2]),
  });
  assert.deepEqual(codec.encode("é"), { flags: FLAG_TEXT, data: text.encode("é") });
  assert.deepEqual(codec.encode(-42), { flags: FLAG_INTEGER, data: text.encode("-42") });
  assert.deepEqual(codec.encode(2n ** 64n), {
    flags: FLAG_INTEGER,
    data: text.encode("18446744073709551616"),
  });
  assert.deepEqual(codec.encode(1.5), { flags: FLAG_SERIALIZED, data: text.encode("1.5") });
  assert.deepEqual(codec.encode({ a: 1 }), {
    flags: FLAG_SERIALIZED,
    data: text.encode('{"a":1}'),
  });
  assert.throws(() => codec.encode(undefined), TypeError);
});

Deno.test("ValueCodec decodes integers as numbers when safe, else bigints", () => {
  const codec = new ValueCodec();
  assert.equal(codec.decode(FLAG_INTEGER, text.encode("9007199254740991")), 9007199254740991);
  assert.equal(codec.decode(FLAG_INTEGER, text.encode("9007199254740992")), 9007199254740992n);
  assert.equal(codec.decode(4, text.encode("-7")), -7);
  assert.throws(() => codec.decode(FLAG_INTEGER, text.encode("x1")), ValueFlagsError);
});

Deno.test("ValueCodec compresses with zlib only past the threshold and only when smaller", () => {
  const codec = new ValueCodec({ minCompressLen: 100 });
  const long = "ab".repeat(100);
  const encoded = codec.encode(long);
  assert.equal(encoded.flags, FLAG_TEXT | FLAG_COMPRESSED);
  assert.equal(new TextDecoder().decode(inflateSync(encoded.data)), long);
  assert.equal(codec.decode(encoded.flags, encoded.data), long);
  assert.equal(codec.encode("ab".repeat(50)).flags, FLAG_TEXT);
  const noise = crypto.getRandomValues(new Uint8Array(500));
  assert.equal(codec.encode(noise).flags, 0);
  assert.equal(codec.encode(10 ** 15).flags, FLAG_INTEGER);
});

Deno.test("ValueCodec refuses pickles with a typed error, or gives their bytes", () => {
  const pickle = new Uint8Array([0x80, 0x04, 0x4b, 0x01, 0x2e]);
  assert.throws(() => new ValueCodec().decode(FLAG_PICKLE, pickle, "k"), (error) => {
    assert.ok(error instanceof ValueFlagsError);
    assert.equal(error.flags, FLAG_PICKLE);
    assert.equal(error.key, "k");
    return true;
  });
  assert.deepEqual(new ValueCodec({ undecodable: "bytes" }).decode(FLAG_PICKLE, pickle), pickle);
  assert.throws(() => new ValueCodec().decode(1 << 12, pickle), ValueFlagsError);
});

Deno.test("ValueCodec copies bytes out of the buffer it is given", () => {
  const buf = new Uint8Array([1, 2, 3]);
  const value = new ValueCodec().decode(0, buf) as Uint8Array;
  buf[0] = 9;
  assert.deepEqual(value, new Uint8Array([1, 2, 3]));
});
