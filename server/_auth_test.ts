import assert from "node:assert/strict";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import { bytes, feedings } from "../tests/_feed.ts";
import { AuthFile } from "./_auth_file.ts";
import { AuthGate } from "./_auth.ts";
import { ManualClock } from "./clock.ts";
import { ServerStats } from "./_stats.ts";
import { SETTINGS } from "./_test_utils.ts";
import type { ConnectionInfo } from "./_types.ts";

const USERS = AuthFile.parse(bytes("alice:secret\nbob:hunter2\n"), "users");

function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function setup(): { gate: AuthGate; stats: ServerStats } {
  const stats = new ServerStats(new ManualClock(), { ...SETTINGS, authFile: "users" }, () => 0);
  return { gate: new AuthGate((u, p) => USERS.check(u, p), stats), stats };
}

function info(): ConnectionInfo {
  return {
    id: 1,
    addr: "tcp:127.0.0.1:1",
    listenAddr: "tcp:127.0.0.1:11211",
    lastCommandTime: 0,
    state: "",
    sentMark: 0,
    requests: 0,
    yieldDue: false,
    parked: false,
    watch: 0,
  };
}

function push(gate: AuthGate, chunk: Uint8Array): void {
  gate.reserve().set(chunk);
  gate.commit(chunk.length);
}

/** Each request's reply line (or "close"), pushing the chunks in order. */
function steps(chunks: Uint8Array[]): { replies: string[]; unread: string } {
  const { gate } = setup();
  const replies: string[] = [];
  for (const [i, chunk] of chunks.entries()) {
    push(gate, chunk);
    for (let step = gate.next(); step !== undefined; step = gate.next()) {
      replies.push(step === "close" ? "close" : latin1(step.reply));
      if (step === "close" || step.authenticated) {
        // What the command parser gets: the gate's unread bytes, then whatever had not arrived.
        return { replies, unread: [gate.unread(), ...chunks.slice(i + 1)].map(latin1).join("") };
      }
    }
  }
  return { replies, unread: latin1(gate.unread()) };
}

Deno.test("AuthGate answers each request alike whether its bytes come whole, a byte at a time, or split anywhere", () => {
  const input = bytes(
    "version\r\nmg k v\r\nset k 0 0 5\r\nalice\r\nset k 0 0 3\r\nabcde\r\n" +
      "set k 0 0 12\r\nalice wrong!\r\nset  k 0 0 +12 noreply\r\nalice secret\r\nget k\r\n",
  );
  const expected = {
    replies: [
      "CLIENT_ERROR unauthenticated\r\n",
      "CLIENT_ERROR unauthenticated\r\n",
      "CLIENT_ERROR bad authentication token format\r\n",
      "CLIENT_ERROR bad command line termination\r\n",
      "CLIENT_ERROR unauthenticated\r\n",
      "CLIENT_ERROR authentication failure\r\n",
      "STORED\r\n",
    ],
    unread: "get k\r\n",
  };
  for (const [name, chunks] of feedings(input)) assert.deepEqual(steps(chunks), expected, name);
});

Deno.test("AuthGate ignores the key, flags and exptime, and reads the user and password up to a NUL", () => {
  const { replies } = steps([
    bytes("set any-key-at-all x y 16\r\nbob hunter2 more\r\nset k 0 0 14\r\nalice secret\0x\r\n"),
  ]);
  assert.deepEqual(replies, ["STORED\r\n"]);
  assert.deepEqual(steps([bytes("set k 0 0 14\r\nalice secret\0x\r\n")]).replies, ["STORED\r\n"]);
});

Deno.test("AuthGate closes on 2049 bytes without a newline and on a size memcached cannot hold", () => {
  assert.deepEqual(steps([bytes("x".repeat(2048))]).replies, []);
  assert.deepEqual(steps([bytes("x".repeat(2049))]).replies, ["close"]);
  assert.deepEqual(steps([bytes("set k 0 0 2147483646\r\n")]).replies, ["close"]);
  assert.deepEqual(steps([bytes("set k 0 0 4294967294\r\n")]).replies, [
    "CLIENT_ERROR bad command line termination\r\n",
  ]);
});

Deno.test("AuthGate's buffer is memcached's 16 KB: an auth set whose data does not fit leaves no room", () => {
  const { gate } = setup();
  push(gate, bytes("set k 0 0 16383\r\n"));
  assert.equal(gate.next(), undefined);
  push(gate, new Uint8Array(gate.reserve().length));
  assert.equal(gate.next(), undefined);
  assert.equal(gate.reserve().length, 0);
});

Deno.test("AuthGate counts auth_cmds for every check and auth_errors for the failed ones only", () => {
  const { gate, stats } = setup();
  push(
    gate,
    bytes(
      "version\r\nset k 0 0 5\r\nalice\r\nset k 0 0 9\r\nbob wrong\r\nset k 0 0 9\r\ncarol pw!\r\n" +
        "set k 0 0 11\r\nbob hunter2\r\n",
    ),
  );
  while (true) {
    const step = gate.next();
    if (step === undefined || step === "close" || step.authenticated) break;
  }
  assert.equal(stats.authCmds, 3);
  assert.equal(stats.authErrors, 2);
});

Deno.test("AuthGate.serve sends only the last reply of the requests memcached answers between writes", () => {
  const { gate } = setup();
  const out = new WriteBuffer();
  const connection = info();
  push(gate, bytes("version\r\n".repeat(22)));
  assert.equal(gate.serve(out, connection), "waiting");
  assert.equal(latin1(out.view()), "CLIENT_ERROR unauthenticated\r\n".repeat(2));
  push(gate, bytes("set k 0 0 9\r\nbob wrong\r\nset k 0 0 11\r\nbob hunter2\r\nget k\r\n"));
  assert.equal(gate.serve(out, connection), "authenticated");
  assert.equal(latin1(out.view()), "CLIENT_ERROR unauthenticated\r\nSTORED\r\n");
  assert.equal(latin1(gate.unread()), "get k\r\n");
});
