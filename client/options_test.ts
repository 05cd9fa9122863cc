import assert from "node:assert/strict";
import { Client, type ClientOptions } from "./mod.ts";

const SERVERS = ["127.0.0.1:11211"];

/** Each option with a value of the wrong type, and (for numbers) out-of-range values. */
const BAD: Record<keyof ClientOptions, { wrongType: unknown[]; outOfRange?: unknown[] }> = {
  debug: { wrongType: ["yes", 1] },
  cacheCas: { wrongType: ["true", 0] },
  flushOnRejoin: { wrongType: ["yes", 1] },
  deadRetry: { wrongType: ["30s", true], outOfRange: [-1, NaN, Infinity, 3e6] },
  socketTimeout: { wrongType: ["3s", null], outOfRange: [-1, 0, NaN, Infinity, 3e6] },
  connectTimeout: { wrongType: ["3s", {}], outOfRange: [-0.5, 0, NaN, -Infinity] },
  minCompressLen: { wrongType: ["100"], outOfRange: [-1, 1.5, NaN] },
  serverMaxKeyLength: { wrongType: ["250"], outOfRange: [0, 251, -1, NaN] },
  serverMaxValueLength: { wrongType: ["1m"], outOfRange: [-1, 0.5, NaN] },
  keyPrefix: { wrongType: [1, "with space", "tab\t", "nul\0"] },
  routing: { wrongType: ["consistent", {}, { pick: 1 }] },
  legacyZeroHash: { wrongType: ["false"] },
  tls: {
    wrongType: [
      "yes",
      1,
      { caCerts: "pem" },
      { caCerts: [1] },
      { ca: [] },
      { certChain: 1, privateKey: "pem" },
      { certChain: "pem" },
      { privateKey: "pem" },
    ],
  },
  auth: {
    wrongType: [
      "alice:secret",
      null,
      { username: "alice" },
      { username: "alice", password: 1 },
      { username: "alice", password: "secret", mechanism: "plain" },
      { username: "", password: "secret" },
      { username: "alice bob", password: "secret" },
      { username: "al:ice", password: "secret" },
      { username: "alice", password: "two words" },
      { username: "alice", password: "line\r\nbreak" },
      { username: "alice", password: "nul\0" },
    ],
  },
  serializer: { wrongType: [JSON, { serialize: () => new Uint8Array() }] },
  undecodable: { wrongType: ["skip", true] },
};

for (const [name, { wrongType, outOfRange = [] }] of Object.entries(BAD)) {
  Deno.test(`Client refuses a wrong ${name} at construction, naming it`, () => {
    const cases = [
      ...wrongType.map((value) => [value, TypeError] as const),
      ...outOfRange.map((value) => [value, RangeError] as const),
    ];
    for (const [value, kind] of cases) {
      assert.throws(
        () => new Client(SERVERS, { [name]: value } as ClientOptions),
        (error: Error) =>
          error instanceof kind && error.message.startsWith(`Cannot create client: ${name}`),
        `${name}: ${String(value)}`,
      );
    }
  });
}

Deno.test("Client refuses an option it does not know, listing the ones it does", () => {
  for (const name of ["timeout", "dead_retry", "socket_timeout", "servers"]) {
    assert.throws(
      () => new Client(SERVERS, { [name]: 3 } as ClientOptions),
      (error: Error) =>
        error instanceof TypeError &&
        error.message.includes(`unknown option "${name}"`) &&
        error.message.includes("socketTimeout"),
    );
  }
  assert.throws(() => new Client(SERVERS, "fast" as ClientOptions), TypeError);
});

Deno.test("Client takes its times in seconds, fractions allowed", () => {
  const client = new Client(SERVERS, {
    deadRetry: 0,
    socketTimeout: 0.25,
    connectTimeout: 1.5,
    routing: "ketama",
    tls: { caCerts: [] },
    auth: { username: "alice", password: "pass:with:colons\tand-tab" },
    undecodable: "bytes",
  });
  client.close();
});

Deno.test("Client's options cover every documented option", () => {
  // A new option must be added to BAD above, and so be tested for wrong values.
  const documented = Deno.readTextFileSync(new URL("./options.ts", import.meta.url));
  const block = documented.slice(
    documented.indexOf("export interface ClientOptions {"),
    documented.indexOf("\n}\n", documented.indexOf("export interface ClientOptions {")),
  );
  const names = [...block.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]).sort();
  assert.deepEqual(names, Object.keys(BAD).sort());
});
