/**
 * The one error tree of @x/memcache. Replies that report a failure on the
 * wire (`ERROR`, `CLIENT_ERROR ...`, `SERVER_ERROR ...`) become subclasses
 * named after them; broken connections, timeouts and unparsable bytes have
 * their own. A miss, `NOT_STORED`, `EXISTS` and `NOT_FOUND` are results,
 * never errors.
 *
 * @module
 */

/** Details an error carries, where they apply. */
export interface MemcacheErrorOptions {
  /** The server (`host:port`) the failure concerns. */
  server?: string;
  /** The key of the call that failed. */
  key?: string;
  /** The reply line that reported the failure, without its CRLF. */
  line?: string;
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * The base of every error @x/memcache throws on purpose.
 *
 * @example Catching any memcache failure
 * ```ts
 * import { MemcacheError } from "@x/memcache/protocol";
 *
 * try {
 *   throw new MemcacheError("Cannot reach server: connection refused");
 * } catch (error) {
 *   if (!(error instanceof MemcacheError)) throw error;
 * }
 * ```
 */
export class MemcacheError extends Error {
  /** The server (`host:port`) the failure concerns, when known. */
  readonly server: string | undefined;
  /** The key of the call that failed, when there was one. */
  readonly key: string | undefined;
  /** The reply line that reported the failure, when one did. */
  readonly line: string | undefined;

  /**
   * Creates an error.
   *
   * @param message What failed, as "Cannot X: detail".
   * @param options The server, key, reply line and cause, where they apply.
   */
  constructor(message: string, options?: MemcacheErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options?.cause });
    this.name = new.target.name;
    this.server = options?.server;
    this.key = options?.key;
    this.line = options?.line;
  }
}

/**
 * Bytes that cannot be parsed as memcached's protocol, or that break one of
 * its limits (an over-long line, a value larger than allowed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtocolError, ResponseParser } from "@x/memcache/protocol";
 *
 * const parser = new ResponseParser();
 * parser.push(new TextEncoder().encode("HELLO\r\n"));
 * assert.throws(() => parser.next(), ProtocolError);
 * ```
 */
export class ProtocolError extends MemcacheError {}

/**
 * The server answered `ERROR`: it does not know the command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommandError } from "@x/memcache/protocol";
 *
 * const error = new CommandError("Cannot run command: the server answered ERROR", { line: "ERROR" });
 * assert.equal(error.line, "ERROR");
 * ```
 */
export class CommandError extends MemcacheError {}

/**
 * The server answered `CLIENT_ERROR <message>`: the request was malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClientError } from "@x/memcache/protocol";
 *
 * const error = new ClientError("Cannot set: bad data chunk", { line: "CLIENT_ERROR bad data chunk" });
 * assert.ok(error instanceof Error);
 * ```
 */
export class ClientError extends MemcacheError {}

/**
 * The server answered `SERVER_ERROR <message>`: it could not carry out the
 * request (an object too large, out of memory).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerError } from "@x/memcache/protocol";
 *
 * const error = new ServerError("Cannot set: object too large for cache");
 * assert.equal(error.name, "ServerError");
 * ```
 */
export class ServerError extends MemcacheError {}

/**
 * A server that requires authentication (memcached's `-Y`) refused the
 * client's credentials, or answered its authentication with anything but
 * `STORED`. Every call queued on that connection fails with it, and the
 * connection is closed; `line` is the server's reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthError } from "@x/memcache/protocol";
 *
 * const error = new AuthError("Cannot authenticate to 127.0.0.1:11211", {
 *   server: "127.0.0.1:11211",
 *   line: "CLIENT_ERROR authentication failure",
 * });
 * assert.equal(error.line, "CLIENT_ERROR authentication failure");
 * ```
 */
export class AuthError extends MemcacheError {}

/**
 * A connection could not be opened, or broke while requests were pending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionError } from "@x/memcache/protocol";
 *
 * const error = new ConnectionError("Cannot connect: connection refused", { server: "127.0.0.1:11211" });
 * assert.equal(error.server, "127.0.0.1:11211");
 * ```
 */
export class ConnectionError extends MemcacheError {}

/**
 * A call did not complete within its timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionError, TimeoutError } from "@x/memcache/protocol";
 *
 * const error = new TimeoutError("Cannot get: no reply within 3000 ms");
 * assert.ok(error instanceof ConnectionError);
 * ```
 */
export class TimeoutError extends ConnectionError {}

/**
 * No live server could be found for a key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoServerError } from "@x/memcache/protocol";
 *
 * const error = new NoServerError("Cannot route key: every server is marked dead", { key: "user:42" });
 * assert.equal(error.key, "user:42");
 * ```
 */
export class NoServerError extends ConnectionError {}
