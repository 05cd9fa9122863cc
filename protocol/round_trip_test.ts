import assert from "node:assert/strict";
import { bytes, drain, feedings, snapshot } from "../tests/_feed.ts";
import {
  type EncodableRequest,
  encodeRequest,
  writeGetLine,
  writeRequest,
} from "./request_encoder.ts";
import { RequestParser } from "./request_parser.ts";
import { encodeResponse, writeResponse, writeValueHeader } from "./response_encoder.ts";
import { type Response, ResponseParser } from "./response_parser.ts";
import { WriteBuffer } from "./write_buffer.ts";

const k = bytes("user:42");
const data = bytes("hello\r\nworld\0\xff");

const REQUESTS: EncodableRequest[] = [
  ...(["set", "add", "replace", "append", "prepend"] as const).map((command) => ({
    type: "storage" as const,
    command,
    key: k,
    flags: 4294967295,
    exptime: -1,
    cas: 0n,
    noreply: false,
    data,
    status: "ok" as const,
  })),
  {
    type: "storage",
    command: "cas",
    key: k,
    flags: 0,
    exptime: 2592001,
    cas: 18446744073709551615n,
    noreply: true,
    data: new Uint8Array(0),
    status: "ok",
  },
  { type: "retrieval", command: "get", keys: [k], exptime: 0, badKey: false },
  {
    type: "retrieval",
    command: "gets",
    keys: [k, bytes("b"), bytes("c")],
    exptime: 0,
    badKey: false,
  },
  { type: "retrieval", command: "gat", keys: [k], exptime: 100, badKey: false },
  { type: "retrieval", command: "gats", keys: [k, bytes("z")], exptime: -5, badKey: false },
  { type: "delete", key: k, noreply: false },
  { type: "delete", key: k, noreply: true },
  { type: "arithmetic", command: "incr", key: k, delta: 18446744073709551615n, noreply: false },
  { type: "arithmetic", command: "decr", key: k, delta: 1n, noreply: true },
  { type: "touch", key: k, exptime: 10, noreply: false },
  { type: "flush_all", delay: 0, noreply: false },
  { type: "flush_all", delay: 30, noreply: true },
  { type: "stats", args: [] },
  { type: "stats", args: ["items"] },
  { type: "version" },
  { type: "verbosity", level: 1, noreply: true },
  { type: "quit" },
  { type: "shutdown", args: ["graceful"] },
  {
    type: "meta",
    command: "mg",
    key: k,
    flags: [bytes("v"), bytes("Oabc")],
    data: new Uint8Array(0),
    status: "ok",
    tokenCount: 5,
  },
  {
    type: "meta",
    command: "ms",
    key: k,
    flags: [bytes("T10")],
    data,
    status: "ok",
    tokenCount: 5,
  },
  {
    type: "meta",
    command: "mn",
    key: new Uint8Array(0),
    flags: [],
    data: new Uint8Array(0),
    status: "ok",
    tokenCount: 2,
  },
];

const RESPONSES: Response[] = [
  { type: "value", key: k, flags: 0, cas: undefined, data },
  { type: "value", key: k, flags: 4294967295, cas: 18446744073709551615n, data: new Uint8Array(0) },
  { type: "end" },
  ...(["STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED", "OK", "RESET"] as const)
    .map((status) => ({ type: "status" as const, status })),
  { type: "number", value: 18446744073709551615n },
  { type: "stat", name: "version", value: "1.6.18" },
  { type: "version", version: "1.6.18" },
  { type: "error", kind: "ERROR", message: "" },
  { type: "error", kind: "CLIENT_ERROR", message: "bad data chunk" },
  { type: "error", kind: "SERVER_ERROR", message: "out of memory storing object" },
  { type: "meta", code: "HD", flags: [bytes("c1")], data: new Uint8Array(0) },
  { type: "meta", code: "VA", flags: [bytes("f1"), bytes("t-1")], data },
  { type: "meta", code: "EN", flags: [], data: new Uint8Array(0) },
  { type: "meta", code: "MN", flags: [], data: new Uint8Array(0) },
];

Deno.test("every request kind survives encode then parse, however the bytes are split", () => {
  for (const request of REQUESTS) {
    const encoded = encodeRequest(request);
    for (const [how, chunks] of feedings(encoded)) {
      const frames = drain(new RequestParser(), chunks);
      assert.deepEqual(frames, [snapshot(request)], `${request.type} fed ${how}`);
    }
  }
});

Deno.test("every response kind survives encode then parse, however the bytes are split", () => {
  for (const response of RESPONSES) {
    const encoded = encodeResponse(response);
    for (const [how, chunks] of feedings(encoded)) {
      const frames = drain(new ResponseParser(), chunks);
      assert.deepEqual(frames, [snapshot(response)], `${response.type} fed ${how}`);
    }
  }
});

Deno.test("encoders allocate exactly the frame's length and match the batched writer", () => {
  const batch = new WriteBuffer(8);
  let expected = 0;
  for (const request of REQUESTS) {
    const encoded = encodeRequest(request);
    assert.equal(encoded.buffer.byteLength, encoded.length);
    writeRequest(batch, request);
    expected += encoded.length;
  }
  for (const response of RESPONSES) {
    const encoded = encodeResponse(response);
    assert.equal(encoded.buffer.byteLength, encoded.length);
    writeResponse(batch, response);
    expected += encoded.length;
  }
  assert.equal(batch.length, expected);
  const parser = new RequestParser();
  parser.push(batch.view());
  for (const request of REQUESTS) assert.deepEqual(snapshot(parser.next()), snapshot(request));
});

Deno.test("writeGetLine writes the get and gets lines writeRequest writes, however they are read", () => {
  for (const command of ["get", "gets"] as const) {
    for (const keys of [[k], [k, bytes("b"), bytes("\xc3\xa9t\xc3\xa9")]]) {
      const joined = bytes(keys.map((key) => String.fromCharCode(...key)).join(" "));
      const out = new WriteBuffer(8);
      writeGetLine(out, command, joined);
      const request: EncodableRequest = {
        type: "retrieval",
        command,
        keys,
        exptime: 0,
        badKey: false,
      };
      assert.deepEqual(snapshot(out.view()), snapshot(encodeRequest(request)));
      for (const [how, chunks] of feedings(out.view())) {
        const frames = drain(new RequestParser(), chunks);
        assert.deepEqual(frames, [snapshot(request)], `${command} of ${keys.length} fed ${how}`);
      }
    }
  }
});

Deno.test("writeValueHeader writes memcached's VALUE line", () => {
  const out = new WriteBuffer();
  writeValueHeader(out, k, 16, 5);
  writeValueHeader(out, k, 0, 0, 9n);
  assert.equal(String.fromCharCode(...out.view()), "VALUE user:42 16 5\r\nVALUE user:42 0 0 9\r\n");
});

Deno.test("the request encoder refuses keys python-memcached refuses, before writing anything", () => {
  const bad = [
    new Uint8Array(0),
    bytes("x".repeat(251)),
    bytes("a b"),
    bytes("a\nb"),
    bytes("a\x7f"),
  ];
  for (const key of bad) {
    const out = new WriteBuffer();
    assert.throws(
      () => writeRequest(out, { type: "delete", key, noreply: false }),
      key.length === 0 || key.length > 250 ? RangeError : TypeError,
    );
    assert.equal(out.length, 0);
  }
  assert.throws(
    () => encodeRequest({ type: "touch", key: k, exptime: 2 ** 31, noreply: false }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeRequest({ type: "arithmetic", command: "incr", key: k, delta: -1n, noreply: false }),
    RangeError,
  );
  assert.throws(
    () => encodeRequest({ type: "retrieval", command: "get", keys: [], exptime: 0, badKey: false }),
    RangeError,
  );
});

Deno.test("a released WriteBuffer frees its bytes, empties its old views, and is written to again", () => {
  const out = new WriteBuffer();
  out.bytes(new TextEncoder().encode("VALUE k 0 1\r\nv\r\nEND\r\n"));
  const old = out.view();
  out.release();
  assert.equal(old.length, 0);
  assert.equal(out.length, 0);
  out.bytes(new TextEncoder().encode("STORED\r\n"));
  assert.equal(new TextDecoder().decode(out.view()), "STORED\r\n");
});
