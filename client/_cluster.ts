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
import type { ServerAddress } from "./options.ts";
import type { ClientSettings } from "./_settings.ts";
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

const written = () => true;

/** A request on one connection: its reply as `reader` reads it, or without a reader `true` once written. */
function sendOn<T>(
  connection: Connection,
  write: (sink: ByteSink) => void,
  reader: ReplyReader<T> | undefined,
  signal: AbortSignal | undefined,
): Promise<T> {
  return reader === undefined
    ? connection.sendQuiet(write).then(written) as Promise<T>
    : connection.send(write, reader, signal);
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
   * @param settings The client's routing, dead-server, timeout, TLS and debug settings.
   */
  constructor(specs: ServerSpec[], settings: ClientSettings) {
    this.#debug = settings.debug;
    this.#deadRetry = settings.deadRetryMs;
    const routing = settings.routing;
    this.router = routing === "python"
      ? new PythonRouter(specs, { legacyZeroHash: settings.legacyZeroHash })
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
        connectTimeout: settings.connectTimeoutMs,
        socketTimeout: settings.socketTimeoutMs,
        onFailure: (error) => this.#markDead(server, error),
        tls: settings.tls,
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
   * Sends a one-key request to the key's server and reads its reply. When
   * the server could not even be connected to, nothing was sent, so the
   * request goes to the server the router picks next, up to once per server.
   *
   * @param key The key's bytes, as the router hashes them.
   * @param write Writes the request.
   * @param reader Reads the reply; used again on the next server tried,
   *   which only happens when nothing was sent or read.
   * @param signal Rejects the call when aborted.
   * @returns What the reader returns.
   * @throws {ConnectionError} When the client is closed or the server fails.
   * @throws {NoServerError} When no server is live for the key.
   */
  send<T>(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    reader: ReplyReader<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    return this.#route(key, write, reader, signal);
  }

  /**
   * Sends a one-key request that gets no reply (`noreply`), routed as
   * {@linkcode Cluster.send} routes it.
   *
   * @param key The key's bytes, as the router hashes them.
   * @param write Writes the request.
   * @param signal Checked before anything is sent.
   * @returns `true` once the request is written.
   * @throws {ConnectionError} When the client is closed or the server fails.
   * @throws {NoServerError} When no server is live for the key.
   */
  sendQuiet(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    return this.#route<boolean>(key, write, undefined, signal);
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

  /** Sends on the key's server; without a reader, as noreply. */
  #route<T>(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    reader: ReplyReader<T> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let first: Promise<T>;
    try {
      if (this.#closed) {
        throw new ConnectionError("Cannot send request: the client is closed");
      }
      signal?.throwIfAborted();
      first = sendOn(this.#pick(key).connection, write, reader, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return first.catch((error) => this.#reroute(key, write, reader, signal, error));
  }

  async #reroute<T>(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    reader: ReplyReader<T> | undefined,
    signal: AbortSignal | undefined,
    error: unknown,
  ): Promise<T> {
    for (let attempt = 0;; attempt++) {
      if (!(error instanceof UnsentError) || attempt >= this.#servers.length) throw error;
      try {
        return await sendOn(this.#pick(key).connection, write, reader, signal);
      } catch (next) {
        error = next;
      }
    }
  }
}
