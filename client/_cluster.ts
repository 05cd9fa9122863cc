/**
 * The client's servers: one pipelined connection each, the router that
 * places keys on them, and the servers left out of routing for a while
 * after they failed (pymemcache's `HashClient` holds the same).
 *
 * @module
 */

import { ConnectionError, NoServerError } from "../protocol/errors.ts";
import type { ByteSink } from "../protocol/write_buffer.ts";
import { writeRequest } from "../protocol/request_encoder.ts";
import { Connection, isUnsent, type OpeningRequest, type ReplyReader } from "./connection.ts";
import { KetamaRouter } from "./ketama_router.ts";
import { latin1 } from "./_key_encoder.ts";
import type { DeadServer, ServerAddress } from "./options.ts";
import type { ClientSettings } from "./_settings.ts";
import { PythonRouter } from "./python_router.ts";
import { OK_READER } from "./_readers.ts";
import type { Router, ServerSpec } from "./router.ts";

interface Server {
  spec: ServerSpec;
  name: string;
  connection: Connection;
  /** Until when (performance.now()) the server is left out of routing after a failure. */
  deadUntil: number;
  /** When its keys may try it again while no other server can take them. */
  retryAt: number;
  /** Why it was last marked dead. */
  error: ConnectionError | undefined;
}

/**
 * How long after a failure a server is tried again when no other server can
 * take its keys: a single server's short outage costs this, not `deadRetry`.
 */
const RETRY_BACKOFF_MS = 1000;

const FORMS = "host:port, [ipv6]:port, unix:/path, or [address, weight]";

/** One address, as python-memcached takes it, plus `[ipv6]:port`; undefined when it is none of them. */
function parseAddress(text: string): Omit<ServerSpec, "weight"> | undefined {
  const unix = /^unix:(.+)$/.exec(text);
  if (unix) return { host: unix[1], port: 0, path: unix[1] };
  const match = /^(?:inet6:)?\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(text) ??
    /^(?:inet:)?([A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const port = match[2] === undefined ? 11211 : Number(match[2]);
  return port >= 1 && port <= 0xffff ? { host: match[1], port } : undefined;
}

function parseServer(address: ServerAddress, index: number): ServerSpec {
  const [text, weight] = typeof address === "string"
    ? [address, 1]
    : Array.isArray(address)
    ? address
    : [undefined, 1];
  const shown = typeof address === "string"
    ? `"${address}"`
    : JSON.stringify(address) ?? String(address);
  if (typeof text !== "string" || (typeof address !== "string" && address.length !== 2)) {
    throw new TypeError(`Cannot use server ${index} ${shown}: expected ${FORMS}`);
  }
  const spec = parseAddress(text);
  if (spec === undefined) {
    const weighted = /^([^:]+:\d+):(\d+)$/.exec(text);
    const hint = weighted ? `; for a weight, pass ["${weighted[1]}", ${weighted[2]}]` : "";
    throw new TypeError(`Cannot use server ${index} ${shown}: expected ${FORMS}${hint}`);
  }
  if (!Number.isSafeInteger(weight) || weight < 1) {
    throw new RangeError(
      `Cannot use server ${index} ${shown}: weight ${weight} is not a positive integer`,
    );
  }
  return { ...spec, weight };
}

/**
 * The servers a client is given, as routers take them.
 *
 * @param servers Addresses, or `[address, weight]` pairs.
 * @returns One spec per server, in order.
 * @throws {TypeError} For an address in none of the accepted forms, naming it and the forms.
 * @throws {RangeError} For an empty list or a weight that is not a positive integer.
 */
export function parseServers(servers: readonly ServerAddress[]): ServerSpec[] {
  if (!Array.isArray(servers)) {
    throw new TypeError(`Cannot create client: the servers are not a list of ${FORMS}`);
  }
  const specs = servers.map(parseServer);
  if (specs.length === 0) throw new RangeError("Cannot create client: the server list is empty");
  return specs;
}

const written = () => true;

/** What `flushOnRejoin` sends a server that opens again after it was marked dead. */
const FLUSH_ON_REJOIN: OpeningRequest = {
  name: "flush_all",
  write: (sink) => writeRequest(sink, { type: "flush_all", delay: 0, noreply: false }),
  reader: OK_READER,
};

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
  /** The clock reading `#alive` compares with: set by each routing before it asks the router. */
  #now = 0;
  #alive = (index: number): boolean => this.aliveAt(index, this.#now);

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
    this.#servers = specs.map((spec, index) => {
      if (spec.path !== undefined && settings.tls !== undefined) {
        throw new TypeError(
          `Cannot use server ${index} "unix:${spec.path}": TLS is for TCP servers, not unix sockets`,
        );
      }
      const server: Server = {
        spec,
        name: "",
        deadUntil: 0,
        retryAt: 0,
        error: undefined,
        connection: undefined as unknown as Connection,
      };
      server.connection = new Connection(spec.host, spec.port, {
        connectTimeout: settings.connectTimeoutMs,
        socketTimeout: settings.socketTimeoutMs,
        onFailure: (error) => this.#markDead(server, error),
        // A server back from the dead may hold values overwritten elsewhere meanwhile.
        opening: () =>
          settings.flushOnRejoin && server.error !== undefined ? FLUSH_ON_REJOIN : undefined,
        onOpen: () => this.#revive(server),
        tls: settings.tls,
        path: spec.path,
        auth: settings.auth,
      });
      server.name = server.connection.server;
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
   * The servers left out of routing now, each with why and until when.
   *
   * @returns One entry per dead server, in the order given.
   */
  dead(): DeadServer[] {
    const now = performance.now();
    const wall = Date.now();
    return this.#servers.flatMap((s) =>
      s.deadUntil > now && s.error !== undefined
        ? [{ server: s.name, error: s.error, until: new Date(wall + s.deadUntil - now) }]
        : []
    );
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
   * Whether a server may be sent to at time `now`: live, or dead with its
   * short back-off passed (for a client whose every server is dead).
   *
   * @param index The server's index.
   * @param now A reading of `performance.now()`.
   * @returns Whether to send to it.
   */
  tryable(index: number, now: number): boolean {
    const server = this.#servers[index];
    return server !== undefined && (server.deadUntil <= now || server.retryAt <= now);
  }

  /**
   * The server for a key at time `now`: the router's pick among the live
   * ones; when none of them will take the key, its own server once its short
   * back-off has passed, so that an outage of every server ends with the
   * first call after it.
   *
   * @param key The key's bytes.
   * @param now A reading of `performance.now()`.
   * @param alive Which servers are live at `now` (`aliveAt` bound to it).
   * @returns The server's index, or -1 when there is none to try.
   */
  pick(key: Uint8Array, now: number, alive: (index: number) => boolean): number {
    const index = this.router.pick(key, alive);
    if (index >= 0) return index;
    const own = this.router.pick(key, everyServer);
    return own >= 0 && this.#servers[own].retryAt <= now ? own : -1;
  }

  /**
   * The error for a call that found no server to try: the key's own server
   * (or each server, without a key), why it failed, and when it is tried again.
   *
   * @param key The key's bytes, when the call had one key.
   * @returns A `NoServerError` whose `cause` is the failure (an `AggregateError` of each, for many).
   */
  unreachable(key?: Uint8Array): NoServerError {
    const now = performance.now();
    const servers = key === undefined
      ? this.#servers
      : [this.#servers[this.router.pick(key, everyServer)] ?? this.#servers[0]];
    const why = servers.map((s) => {
      const retry = Math.max(0, (s.retryAt - now) / 1000).toFixed(1);
      return `${s.name} failed (${s.error?.message ?? "marked dead"}); tried again in ${retry} s`;
    });
    const causes = servers.map((s) => s.error);
    return new NoServerError(`Cannot reach a server: ${why.join("; ")}`, {
      server: servers.length === 1 ? servers[0].name : undefined,
      key: key === undefined ? undefined : latin1(key),
      cause: causes.length === 1 ? causes[0] : new AggregateError(causes, "every server failed"),
    });
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
   * @throws {NoServerError} When no server will take the key now.
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
   * @throws {NoServerError} When no server will take the key now.
   */
  sendQuiet(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    return this.#route<boolean>(key, write, undefined, signal);
  }

  /**
   * Sends one request to every live server at once; when every server is
   * dead, to those whose back-off has passed.
   *
   * @param write Writes the request.
   * @param reader Makes a reader for each server's reply.
   * @param signal Rejects the call when aborted.
   * @returns Each answering server's `host:port` and reply; failed servers are left out.
   * @throws {ConnectionError} When the client is closed, or no server answers: the
   *   one server's error, or a `NoServerError` naming each.
   */
  async everyServer<T>(
    write: (sink: ByteSink) => void,
    reader: () => ReplyReader<T>,
    signal: AbortSignal | undefined,
  ): Promise<[string, T][]> {
    this.#checkOpen();
    signal?.throwIfAborted();
    const now = performance.now();
    const anyAlive = this.#servers.some((s) => s.deadUntil <= now);
    const failures: unknown[] = [];
    const replies = await Promise.all(this.#servers.map(async (server) => {
      if (server.deadUntil > now && (anyAlive || server.retryAt > now)) return undefined;
      try {
        return [server.name, await server.connection.send(write, reader(), signal)] as [string, T];
      } catch (error) {
        if (!(error instanceof ConnectionError)) throw error;
        failures.push(error);
        return undefined;
      }
    }));
    const answered = replies.filter((r) => r !== undefined);
    if (answered.length > 0) return answered;
    throw failures.length === 1 && this.#servers.length === 1 ? failures[0] : this.unreachable();
  }

  /** Closes every connection; pending calls fail with `ConnectionError`. */
  close(): void {
    this.#closed = true;
    for (const server of this.#servers) server.connection.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ConnectionError("Cannot send request: the client is closed");
  }

  #markDead(server: Server, error: ConnectionError): void {
    const now = performance.now();
    server.deadUntil = now + this.#deadRetry;
    server.retryAt = now + Math.min(RETRY_BACKOFF_MS, this.#deadRetry);
    server.error = error;
    if (this.#debug && !this.#closed) {
      console.error(`MemCached: ${server.name}: ${error.message}; marked dead`);
    }
  }

  /** A server that opens again takes its keys at once. */
  #revive(server: Server): void {
    server.deadUntil = 0;
    server.retryAt = 0;
    server.error = undefined;
  }

  /** The key's server now, as {@linkcode Cluster.prototype.pick} chooses it; -1 for none. */
  #indexOf(key: Uint8Array): number {
    const now = this.#now = performance.now();
    return this.pick(key, now, this.#alive);
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
      this.#checkOpen();
      signal?.throwIfAborted();
      const index = this.#indexOf(key);
      if (index < 0) throw this.unreachable(key);
      first = sendOn(this.#servers[index].connection, write, reader, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return first.catch((error) => this.#reroute(key, write, reader, signal, error));
  }

  /** After a connection that never opened, the next server for the key; else its error. */
  async #reroute<T>(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    reader: ReplyReader<T> | undefined,
    signal: AbortSignal | undefined,
    error: unknown,
  ): Promise<T> {
    for (let attempt = 0;; attempt++) {
      if (!isUnsent(error) || attempt >= this.#servers.length) throw error;
      const index = this.#indexOf(key);
      // No other server takes the key: the failure itself says the most.
      if (index < 0) throw error;
      try {
        return await sendOn(this.#servers[index].connection, write, reader, signal);
      } catch (next) {
        error = next;
      }
    }
  }
}

const everyServer = (): boolean => true;
