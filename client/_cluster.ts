/**
 * The client's servers: one pipelined connection each, the router that
 * places keys on them, and the servers left out of routing for a while
 * after they failed (pymemcache's `HashClient` holds the same).
 *
 * @module
 */

import { ConnectionError, NoServerError } from "../protocol/errors.ts";
import type { ByteSink } from "../protocol/write_buffer.ts";
import { Connection, type ReplyReader, UnsentError } from "./connection.ts";
import { KetamaRouter } from "./ketama_router.ts";
import { latin1 } from "./_key_encoder.ts";
import type { ClientOptions, ServerAddress } from "./options.ts";
import { PythonRouter } from "./python_router.ts";
import type { Router, ServerSpec } from "./router.ts";

interface Server {
  spec: ServerSpec;
  name: string;
  connection: Connection;
  deadUntil: number;
}

function parseServer(address: ServerAddress, index: number): ServerSpec {
  const [text, weight] = typeof address === "string" ? [address, 1] : address;
  let host = text;
  let port = 11211;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1];
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (text.includes(":")) {
    const at = text.lastIndexOf(":");
    host = text.slice(0, at);
    port = Number(text.slice(at + 1));
  }
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new TypeError(`Cannot use server ${index}: "${text}" is not "host:port"`);
  }
  if (!Number.isSafeInteger(weight) || weight < 1) {
    throw new RangeError(`Cannot use server ${index}: weight ${weight} is not a positive integer`);
  }
  return { host, port, weight };
}

/**
 * The servers a client is given, as routers take them.
 *
 * @param servers `host:port` strings or `[host:port, weight]` pairs.
 * @returns One spec per server, in order.
 * @throws {TypeError} For an address that is not `host:port`.
 * @throws {RangeError} For an empty list or a weight that is not a positive integer.
 */
export function parseServers(servers: readonly ServerAddress[]): ServerSpec[] {
  const specs = servers.map(parseServer);
  if (specs.length === 0) throw new RangeError("Cannot create client: the server list is empty");
  return specs;
}

/** The servers of one client, and which of them take requests now. */
export class Cluster {
  /** Places keys on the servers, by index into the list. */
  readonly router: Router;
  #servers: Server[];
  #debug: boolean;
  #deadRetry: number;
  #closed = false;
  #alive = (index: number): boolean => this.aliveAt(index, performance.now());

  /**
   * Builds the router and one connection per server; nothing opens until used.
   *
   * @param specs The servers, from {@linkcode parseServers}.
   * @param options The client's routing, dead-server, timeout, TLS and debug options.
   */
  constructor(specs: ServerSpec[], options: ClientOptions) {
    this.#debug = options.debug ?? false;
    this.#deadRetry = options.deadRetry ?? 30_000;
    const routing = options.routing ?? "python";
    this.router = routing === "python"
      ? new PythonRouter(specs, { legacyZeroHash: options.legacyZeroHash })
      : routing === "ketama"
      ? new KetamaRouter(specs)
      : routing;
    this.#servers = specs.map((spec) => {
      const server: Server = {
        spec,
        name: `${spec.host}:${spec.port}`,
        deadUntil: 0,
        connection: undefined as unknown as Connection,
      };
      server.connection = new Connection(spec.host, spec.port, {
        connectTimeout: options.connectTimeout,
        socketTimeout: options.socketTimeout,
        onFailure: (error) => this.#markDead(server, error),
        tls: options.tls === true ? {} : options.tls || undefined,
      });
      return server;
    });
  }

  /** How many servers there are, live or not. */
  get size(): number {
    return this.#servers.length;
  }

  /** The servers as `host:port`, in the order given. */
  get names(): string[] {
    return this.#servers.map((s) => s.name);
  }

  /**
   * Whether a server takes requests at time `now`: not marked dead until later.
   *
   * @param index The server's index.
   * @param now A reading of `performance.now()`.
   * @returns Whether it is live.
   */
  aliveAt(index: number, now: number): boolean {
    const server = this.#servers[index];
    return server !== undefined && server.deadUntil <= now;
  }

  /**
   * The connection of a server.
   *
   * @param index The server's index.
   * @returns Its connection.
   */
  connection(index: number): Connection {
    return this.#servers[index].connection;
  }

  /**
   * Runs a call on the key's server; when it could not even connect,
   * reroutes (nothing was sent), up to once per server.
   *
   * @param key The key's bytes, as the router hashes them.
   * @param call Sends the request on the connection it is given.
   * @param signal Checked before anything is sent.
   * @returns What the call returns.
   * @throws {ConnectionError} When the client is closed.
   * @throws {NoServerError} When no server is live for the key.
   */
  route<T>(
    key: Uint8Array,
    call: (connection: Connection) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let first: Promise<T>;
    try {
      if (this.#closed) {
        throw new ConnectionError("Cannot send request: the client is closed");
      }
      signal?.throwIfAborted();
      first = call(this.#pick(key).connection);
    } catch (error) {
      return Promise.reject(error);
    }
    return first.catch((error) => this.#reroute(key, call, error, 0));
  }

  /**
   * Sends one request to every live server at once.
   *
   * @param write Writes the request.
   * @param reader Makes a reader for each server's reply.
   * @param signal Rejects the call when aborted.
   * @returns Each answering server's `host:port` and reply; failed servers are left out.
   * @throws {ConnectionError} When the client is closed.
   */
  async everyServer<T>(
    write: (sink: ByteSink) => void,
    reader: () => ReplyReader<T>,
    signal: AbortSignal | undefined,
  ): Promise<[string, T][]> {
    if (this.#closed) throw new ConnectionError("Cannot send request: the client is closed");
    signal?.throwIfAborted();
    const replies = await Promise.all(this.#servers.map(async (server, index) => {
      if (!this.#alive(index)) return undefined;
      try {
        return [server.name, await server.connection.send(write, reader(), signal)] as [string, T];
      } catch (error) {
        if (error instanceof ConnectionError) return undefined;
        throw error;
      }
    }));
    return replies.filter((r) => r !== undefined);
  }

  /** Closes every connection; pending calls fail with `ConnectionError`. */
  close(): void {
    this.#closed = true;
    for (const server of this.#servers) server.connection.close();
  }

  #markDead(server: Server, error: ConnectionError): void {
    server.deadUntil = performance.now() + this.#deadRetry;
    if (this.#debug && !this.#closed) {
      console.error(`MemCached: ${server.name}: ${error.message}; marked dead`);
    }
  }

  #pick(key: Uint8Array): Server {
    const index = this.router.pick(key, this.#alive);
    const server = this.#servers[index];
    if (server === undefined) {
      throw new NoServerError("Cannot route key: no live server", { key: latin1(key) });
    }
    return server;
  }

  async #reroute<T>(
    key: Uint8Array,
    call: (connection: Connection) => Promise<T>,
    error: unknown,
    attempt: number,
  ): Promise<T> {
    for (;; attempt++) {
      if (!(error instanceof UnsentError) || attempt >= this.#servers.length) throw error;
      try {
        return await call(this.#pick(key).connection);
      } catch (next) {
        error = next;
      }
    }
  }
}
