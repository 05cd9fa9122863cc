// Parser throughput: `deno bench -A bench/protocol_bench.ts`.
import {
  encodeRequest,
  encodeResponse,
  RequestParser,
  ResponseParser,
  ValueSpan,
  WriteBuffer,
  writeResponse,
} from "../protocol/mod.ts";

const encoder = new TextEncoder();
const keys = Array.from(
  { length: 100 },
  (_, i) => encoder.encode(`key:${String(i).padStart(8, "0")}`),
);
const value = new Uint8Array(100).fill(0x61);

const getLine = encodeRequest({
  type: "retrieval",
  command: "get",
  keys,
  exptime: 0,
  badKey: false,
});
const setFrame = {
  type: "storage",
  command: "set",
  key: keys[0],
  flags: 0,
  exptime: 0,
  cas: 0n,
  noreply: false,
  data: value,
  status: "ok",
} as const;
const setRequest = encodeRequest(setFrame);
const batch = new WriteBuffer();
for (const key of keys) {
  writeResponse(batch, { type: "value", key, flags: 0, cas: undefined, data: value });
}
writeResponse(batch, { type: "end" });
const valueReply = batch.view().slice();

const requests = new RequestParser();
const responses = new ResponseParser();

Deno.bench("parse a 100-key get line", { group: "request", baseline: true }, () => {
  requests.push(getLine);
  requests.next();
});

Deno.bench("parse a 100-byte set", { group: "request" }, () => {
  requests.push(setRequest);
  requests.next();
});

Deno.bench("parse a 100-value VALUE reply", { group: "response", baseline: true }, () => {
  responses.push(valueReply);
  while (responses.next() !== undefined);
});

const span = new ValueSpan();
Deno.bench("parse a 100-value VALUE reply, values by nextValue", { group: "response" }, () => {
  responses.push(valueReply);
  for (;;) if (!responses.nextValue(span) && responses.next() === undefined) break;
});

Deno.bench("encode a 100-byte set", { group: "encode" }, () => {
  encodeRequest(setFrame);
});

Deno.bench("encode a VALUE reply", { group: "encode" }, () => {
  encodeResponse({ type: "value", key: keys[0], flags: 0, cas: undefined, data: value });
});
