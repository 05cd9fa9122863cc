/**
 * ASCII authentication from the client's side (memcached's `-Y`): the
 * request each connection sends ahead of everything else, and how its reply
 * is read. No sockets here.
 *
 * The request is a `set` whose data is `user password`; a server with `-Y`
 * ignores its key, flags and exptime. A server without `-Y` stores it as an
 * ordinary item, so the key is one of this client's own and the exptime
 * negative: the item is expired the moment it is stored, and no `get` can
 * read the credentials back.
 *
 * @module
 */

import { AuthError } from "../protocol/errors.ts";
import { writeRequest } from "../protocol/request_encoder.ts";
import type { Response } from "../protocol/response_parser.ts";
import type { ByteSink } from "../protocol/write_buffer.ts";
import type { ClientAuthOptions } from "./options.ts";

const encoder = new TextEncoder();
const AUTH_KEY = encoder.encode("@x/memcache/auth");

/**
 * Writes the authentication request for these credentials.
 *
 * @param sink Where the bytes go.
 * @param auth The user name and password.
 */
export function writeAuth(sink: ByteSink, auth: ClientAuthOptions): void {
  writeRequest(sink, {
    type: "storage",
    command: "set",
    key: AUTH_KEY,
    flags: 0,
    exptime: -1,
    cas: 0n,
    noreply: false,
    data: encoder.encode(`${auth.username} ${auth.password}`),
    status: "ok",
  });
}

/** The reply line a frame stands for, as an error names it. */
function line(frame: Response): string {
  switch (frame.type) {
    case "error":
      return frame.message === "" ? frame.kind : `${frame.kind} ${frame.message}`;
    case "status":
      return frame.status;
    case "value":
      return "VALUE";
    case "end":
      return "END";
    default:
      return frame.type.toUpperCase();
  }
}

/**
 * The error for an authentication the server did not answer `STORED`.
 *
 * @param server The server, as `host:port`.
 * @param username Who tried to authenticate.
 * @param reply The server's reply line.
 * @returns An {@linkcode AuthError} naming the server, the user and the reply line.
 */
export function authError(server: string, username: string, reply: string): AuthError {
  // Before authentication memcached answers only the last of the requests it has read.
  const hint = reply.startsWith("CLIENT_ERROR") && reply !== "CLIENT_ERROR authentication failure"
    ? " (memcached's answer to refused credentials with requests pipelined behind them)"
    : "";
  return new AuthError(
    `Cannot authenticate to ${server} as "${username}": the server answered "${reply}"${hint}`,
    { server, line: reply },
  );
}

/**
 * Reads the reply to the authentication request: `STORED` authenticates;
 * any other frame is an {@linkcode AuthError}. (Error frames never reach a
 * reader: the connection turns those into an `AuthError` itself.)
 *
 * @param server The server, as `host:port`.
 * @param username Who tries to authenticate.
 * @returns The reader (a `ReplyReader<true>`).
 */
export function authReader(
  server: string,
  username: string,
): { frame(frame: Response): { value: true } | { error: AuthError } } {
  return {
    frame(frame) {
      if (frame.type === "status" && frame.status === "STORED") return { value: true };
      return { error: authError(server, username, line(frame)) };
    },
  };
}
