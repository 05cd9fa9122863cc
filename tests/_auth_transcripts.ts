/**
 * Byte transcripts of ASCII authentication (`-Y <file>`) for the
 * differential test: each is sent as is to Debian's memcached 1.6.18 and to
 * our server, both started with the same auth file, and both must answer
 * alike. Turns follow `_transcripts.ts`.
 *
 * Before a connection authenticates memcached overwrites its one pending
 * reply with each new one, so of the requests in one write only the last is
 * answered; the transcripts give a request its own turn where its reply is
 * what they show.
 *
 * @module
 */

import type { TranscriptGroup } from "./_transcripts.ts";

/** The auth file both servers read; `{users}` in the group's flags is its path. */
export const USERS = "alice:secret\nbob:hunter2\ncarol:pass:with:colons\r\n";

/** An auth request: a `set` of any key whose data is `user password`. */
function auth(data: string, key = "auth"): string {
  return `set ${key} 0 0 ${data.length}\r\n${data}\r\n`;
}

const ALICE = auth("alice secret");

export const AUTH_GROUP: TranscriptGroup = {
  name: "ASCII authentication with -Y",
  args: ["-Y", "{users}"],
  flushBefore: false,
  transcripts: [
    // First, before the 21-request writes below add to conn_yields.
    {
      name: "stats counts auth_cmds and auth_errors, stats settings names the auth file",
      turns: [
        auth("alice wrong"),
        auth("mallory x"),
        auth("alice"),
        ALICE,
        "stats\r\n",
        "stats settings\r\n",
        "stats reset\r\nstats\r\n",
      ],
    },
    {
      name: "every command before authenticating is CLIENT_ERROR unauthenticated, quit included",
      turns: [
        "version\r\n",
        "get k\r\n",
        "stats\r\n",
        "flush_all\r\n",
        "\r\n",
        "quit\r\n",
        "shutdown\r\n",
        "add k 0 0 1\r\nx\r\n",
        "version\r\n",
      ],
    },
    {
      name: "meta commands before authenticating are refused alike, an ms data line too",
      turns: ["mn\r\n", "mg k v\r\n", "ms k 2\r\n", "hi\r\n", "md k\r\n", "me k\r\n"],
    },
    {
      name: "of the requests in one write before authenticating only the last is answered",
      turns: [
        "get a\r\nmn\r\nstats\r\nquit\r\n",
        "version\r\n".repeat(21),
        "version\r\n".repeat(22),
        "version\r\n".repeat(41),
        "version\r\n".repeat(42),
        `${auth("alice wrong")}version\r\n`,
        `version\r\n${ALICE}get k\r\n`,
      ],
    },
    {
      name: "a wrong password is CLIENT_ERROR authentication failure, and the next try may succeed",
      turns: [auth("alice wrong"), auth("alice secre"), auth("alice secrett"), ALICE, "get k\r\n"],
    },
    {
      name: "a user the file does not list fails as a wrong password does",
      turns: [auth("mallory secret"), auth("Alice secret"), "version\r\n"],
    },
    {
      name: "a password holding colons and a file line ending in CRLF",
      turns: [auth("carol pass:with:colons\r"), auth("carol pass:with:colons"), "version\r\n"],
    },
    {
      name: "a malformed auth request: one token, data not ending in CRLF, a bad size, not a set",
      turns: [
        auth("alice"),
        auth(""),
        "set k 0 0 3\r\nabcde\r\n",
        "version\r\n",
        "set k 0 0\r\nalice secret\r\n",
        "version\r\n",
        "set k 0 0 12x\r\n",
        "set k 0 0 -1\r\n",
        "add k 0 0 12\r\nalice secret\r\n",
        "version\r\n",
      ],
    },
    {
      name: "the auth set's key, flags, exptime and noreply are ignored, and nothing is stored",
      turns: ["set stored-key bad flags 12 noreply\r\nalice secret\r\n", "get stored-key auth\r\n"],
    },
    {
      name: "spaces around the tokens are skipped, words after the password ignored",
      turns: [" set  k  0 0  +26 \r\n  bob hunter2 extra words \r\n", "version\r\n"],
    },
    {
      name: "a password ends at a NUL byte",
      turns: [auth("alice secret\0tail"), "version\r\n"],
    },
    {
      name: "after authenticating commands run, and a second auth set is an ordinary set",
      turns: [
        ALICE,
        "set after 0 0 2\r\nok\r\nget after\r\nmg after v\r\n",
        auth("bob hunter2", "second"),
        auth("bob wrong!!", "third"),
        "get second third\r\nversion\r\n",
      ],
    },
    {
      name: "the auth set and the commands after it in one write are all answered",
      turns: [`${auth("bob hunter2")}set one 0 0 1\r\n1\r\nget one\r\nmn\r\n`],
    },
    {
      name: "an auth set in pieces, its CR and LF apart",
      turns: [["se", "t k 0 0 12\r", "\nalice ", "secret\r", "\nversion\r\n"]],
    },
    {
      name: "a lone newline waits for more bytes before it is answered",
      turns: ["\n", "version\r\n"],
    },
    {
      name: "2049 bytes without a newline before authenticating close the connection",
      turns: ["version\r\n", "x".repeat(2048), "y"],
    },
    {
      name: "an auth set too large for memcached's 16 KB read buffer closes the connection",
      turns: [["version\r\nset k 0 0 20000\r\n", "x".repeat(16000), "x".repeat(4002)]],
    },
    {
      name: "an auth set that just fits memcached's 16 KB read buffer is read",
      turns: [
        ["set k 0 0 16382\r\n", "x".repeat(16000), `alice secret${" ".repeat(370)}\r\n`],
        "version\r\n",
      ],
    },
  ],
};
