/**
 * The sharded, pipelined memcached client.
 *
 * @module
 */

import { ConnectionError, NoServerError, ProtocolError } from "../protocol/errors.ts";
import type { Response } from "../protocol/response_parser.ts";
import { writeRequest } from "../protocol/request_encoder.ts";
import type { StorageCommand } from "../protocol/request_parser.ts";
import { type Serializer, ValueCodec } from "./codec.ts";
import { Connection, type ReplyReader, UnsentError } from "./connection.ts";
import { KetamaRouter } from "./ketama_router.ts";
import { PythonRouter } from "./python_router.ts";
import type { Router, ServerSpec } from "./router.ts";

/**
 * A server as the client is given it: `"host:port"` (`"host"` alone means
 * port 11211, `"[::1]:11211"` an IPv6 address), or a `["host:port", weight]`
 * pair, as python-memcached takes them.
 */
export type ServerAddress = string | readonly [string, number];

/** TLS settings for {@linkcode ClientOptions.tls}. */
export interface ClientTlsOptions {
  /** CA certificates (PEM) to trust on top of the system's. */
  caCerts?: string[];
}

/** Options of {@linkcode Client}. */
export interface ClientOptions {
  /**
   * Log connection failures and dead servers to stderr.
   *
   * @default {false}
   */
  debug?: boolean;
  /**
   * Remember the cas token of every `gets`, so that `cas(key, value)` without
   * a token uses it (python-memcached's `cache_cas`).
   *
   * @default {false}
   */
  cacheCas?: boolean;
  /**
   * How long a server that failed is left out of routing, in milliseconds.
   *
   * @default {30000}
   */
  deadRetry?: number;
  /**
   * How long a reply may take, in milliseconds.
   *
   * @default {3000}
   */
  socketTimeout?: number;
  /**
   * How long opening a connection may take, in milliseconds.
   *
   * @default {3000}
   */
  connectTimeout?: number;
  /**
   * Compress values longer than this many bytes with zlib when that makes
   * them smaller; 0 never compresses.
   *
   * @default {0}
   */
  minCompressLen?: number;
  /**
   * The longest key, in bytes, after the prefix; at most 250.
   *
   * @default {250}
   */
  serverMaxKeyLength?: number;
  /**
   * The largest value, in bytes after encoding and compression; larger ones
   * are refused with a `RangeError` before anything is sent. 0 turns the check off.
   *
   * @default {1048576}
   */
  serverMaxValueLength?: number;
  /**
   * A prefix put before every key of `getMulti`, `setMulti` and
   * `deleteMulti` (python-memcached's `key_prefix`); results use the keys
   * without it.
   *
   * @default {""}
   */
  keyPrefix?: string;
  /**
   * How keys are placed: `"python"` as python-memcached does
   * ({@linkcode PythonRouter}), `"ketama"` as libmemcached's weighted ketama
   * ({@linkcode KetamaRouter}), or a router of your own, built over the same
   * server list.
   *
   * @default {"python"}
   */
  routing?: "python" | "ketama" | Router;
  /**
   * Passed to {@linkcode PythonRouter}: hash 0 as 1, as python-memcached up
   * to 1.59 does.
   *
   * @default {false}
   */
  legacyZeroHash?: boolean;
  /**
   * Reach the servers over TLS (memcached's `-Z`): `true` trusts the system's
   * CA certificates, `{ caCerts }` adds PEM certificates of your own.
   *
   * @default {false}
   */
  tls?: boolean | ClientTlsOptions;
  /**
   * How values that are not bytes, text or integers are stored (flag 256).
   *
   * @default {JSON as UTF-8}
   */
  serializer?: Serializer;
  /**
   * What a stored value with flags this client cannot decode (a Python
   * pickle, flag 1) becomes: `"throw"` a `ValueFlagsError`, or `"bytes"`
   * its raw bytes.
   *
   * @default {"throw"}
   */
  undecodable?: "throw" | "bytes";
}

/** Options every call takes. */
export interface CallOptions {
  /**
   * Rejects the call with the signal's reason when aborted.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options of the storage calls. */
export interface StoreOptions extends CallOptions {
  /**
   * Expiry: 0 never, up to 30 days in seconds, else a Unix time.
   *
   * @default {0}
   */
  exptime?: number;
  /**
   * Ask for no reply: the call resolves `true` once the request is written.
   *
   * @default {false}
   */
  noreply?: boolean;
  /**
   * Overrides the client's `minCompressLen` for this value.
   *
   * @default {the client's}
   */
  minCompressLen?: number;
}

/** Options of `delete`. */
export interface DeleteOptions extends CallOptions {
  /**
   * Ask for no reply: the call resolves `true` once the request is written.
   *
   * @default {false}
   */
  noreply?: boolean;
}

/** Options of `getMulti` and `deleteMulti`. */
export interface MultiOptions extends CallOptions {
  /**
   * Overrides the client's `keyPrefix` for this call.
   *
   * @default {the client's}
   */
  keyPrefix?: string;
}

/** Options of `setMulti`. */
export interface SetMultiOptions extends MultiOptions {
  /**
   * Expiry: 0 never, up to 30 days in seconds, else a Unix time.
   *
   * @default {0}
   */
  exptime?: number;
  /**
   * Overrides the client's `minCompressLen` for these values.
   *
   * @default {the client's}
   */
  minCompressLen?: number;
}

/** Options of `flushAll`. */
export interface FlushOptions extends CallOptions {
  /**
   * Seconds until the flush.
   *
   * @default {0}
   */
  delay?: number;
}

/** Options of `stats`. */
export interface StatsOptions extends CallOptions {
  /**
   * The group to ask for (`"items"`, `"slabs"`, `"settings"`); none for the general stats.
   *
   * @default {undefined}
   */
  group?: string;
}

/** A value with its cas token, from `gets`. */
export interface CasValue<T> {
  /** The value. */
  value: T;
  /** The cas unique to pass to `cas`. */
  cas: bigint;
}

interface Server {
  spec: ServerSpec;
  name: string;
  connection: Connection;
  deadUntil: number;
}

const encoder = new TextEncoder();
const MAX_KEY = 250;

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

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function unexpected(frame: Response): never {
  throw new ProtocolError(`Cannot read reply: unexpected ${JSON.stringify(frame.type)} frame`);
}

function toInteger(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const STORE_READER: ReplyReader<boolean> = {
  frame(frame) {
    if (frame.type !== "status") unexpected(frame);
    switch (frame.status) {
      case "STORED":
        return { value: true };
      case "NOT_STORED":
      case "EXISTS":
      case "NOT_FOUND":
        return { value: false };
      default:
        return unexpected(frame);
    }
  },
};

function statusReader(yes: string, no: string): ReplyReader<boolean> {
  return {
    frame(frame) {
      if (frame.type === "status" && frame.status === yes) return { value: true };
      if (frame.type === "status" && frame.status === no) return { value: false };
      return unexpected(frame);
    },
  };
}

const DELETE_READER = statusReader("DELETED", "NOT_FOUND");
const TOUCH_READER = statusReader("TOUCHED", "NOT_FOUND");
const OK_READER = statusReader("OK", "OK");

const ARITHMETIC_READER: ReplyReader<number | bigint | undefined> = {
  frame(frame) {
    if (frame.type === "number") return { value: toInteger(frame.value) };
    if (frame.type === "status" && frame.status === "NOT_FOUND") return { value: undefined };
    return unexpected(frame);
  },
};

const VERSION_READER: ReplyReader<string> = {
  frame(frame) {
    return frame.type === "version" ? { value: frame.version } : unexpected(frame);
  },
};

function statsReader(): ReplyReader<Record<string, string>> {
  const stats: Record<string, string> = {};
  return {
    frame(frame) {
      if (frame.type === "stat") {
        stats[frame.name] = frame.value;
        return undefined;
      }
      return frame.type === "end" ? { value: stats } : unexpected(frame);
    },
  };
}

/**
 * A memcached client over one or more servers: keys are placed as
 * python-memcached places them (or by ketama, or a router of your own),
 * values stored with python-memcached's flags, and every server reached over
 * one pipelined connection, so concurrent calls share writes.
 *
 * A miss is `undefined`; `NOT_STORED`, `EXISTS` and `NOT_FOUND` are `false`.
 * Errors the server reports throw `CommandError`, `ClientError` or
 * `ServerError`; a server that cannot be reached or does not answer throws
 * `ConnectionError` or `TimeoutError` and is left out of routing for
 * `deadRetry`, so its keys go to the other servers meanwhile.
 *
 * Integers come back as a `number` when they are safe integers, else as a
 * `bigint` (from `get` of an integer value, and from `incr`/`decr`).
 *
 * @example Set, get and count
 * ```ts ignore
 * import { Client } from "@x/memcache/client";
 *
 * await using client = new Client(["127.0.0.1:11211"]);
 * await client.set("greeting", "hello", { exptime: 60 });
 * console.log(await client.get("greeting")); // "hello"
 * await client.set("visits", 41);
 * console.log(await client.incr("visits")); // 42
 * ```
 */
export class Client implements AsyncDisposable {
  #servers: Server[];
  #router: Router;
  #codec: ValueCodec;
  #debug: boolean;
  #cacheCas: boolean;
  #casIds = new Map<string, bigint>();
  #deadRetry: number;
  #maxKeyLength: number;
  #maxValueLength: number;
  #keyPrefix: string;
  #closed = false;
  #alive = (index: number): boolean => {
    const server = this.#servers[index];
    return server !== undefined && server.deadUntil <= performance.now();
  };

  /**
   * Creates a client; connections open on first use.
   *
   * @param servers The servers, in the order other clients are given them.
   * @param options See {@linkcode ClientOptions}.
   * @throws {TypeError} For a server address that is not `host:port`.
   * @throws {RangeError} For an empty server list, a bad weight or a bad limit.
   */
  constructor(servers: readonly ServerAddress[], options: ClientOptions = {}) {
    const specs = servers.map(parseServer);
    if (specs.length === 0) throw new RangeError("Cannot create client: the server list is empty");
    this.#debug = options.debug ?? false;
    this.#cacheCas = options.cacheCas ?? false;
    this.#deadRetry = options.deadRetry ?? 30_000;
    this.#maxKeyLength = options.serverMaxKeyLength ?? MAX_KEY;
    if (
      !Number.isInteger(this.#maxKeyLength) || this.#maxKeyLength < 1 ||
      this.#maxKeyLength > MAX_KEY
    ) {
      throw new RangeError(
        `Cannot create client: serverMaxKeyLength ${this.#maxKeyLength} is outside 1..250`,
      );
    }
    this.#maxValueLength = options.serverMaxValueLength ?? 1024 * 1024;
    this.#keyPrefix = options.keyPrefix ?? "";
    this.#codec = new ValueCodec({
      minCompressLen: options.minCompressLen,
      serializer: options.serializer,
      undecodable: options.undecodable,
    });
    const routing = options.routing ?? "python";
    this.#router = routing === "python"
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

  /** The servers as `host:port`, in the order given. */
  get servers(): string[] {
    return this.#servers.map((s) => s.name);
  }

  /**
   * Stores a value.
   *
   * @param key The key (UTF-8 encoded on the wire).
   * @param value Bytes, a string, an integer, or anything the serializer takes.
   * @param options Expiry, noreply, compression and abort signal.
   * @returns `true` when stored.
   * @throws {TypeError} For a key with spaces or control characters, or `undefined`.
   * @throws {RangeError} For a key or value over the limits.
   */
  set(key: string, value: unknown, options: StoreOptions = {}): Promise<boolean> {
    return this.#store("set", key, value, 0n, options);
  }

  /**
   * Stores a value only if the key is absent.
   *
   * @param key The key.
   * @param value The value.
   * @param options Expiry, noreply, compression and abort signal.
   * @returns `true` when stored, `false` when the key exists.
   * @throws {TypeError | RangeError} For a bad key or value.
   */
  add(key: string, value: unknown, options: StoreOptions = {}): Promise<boolean> {
    return this.#store("add", key, value, 0n, options);
  }

  /**
   * Stores a value only if the key is present.
   *
   * @param key The key.
   * @param value The value.
   * @param options Expiry, noreply, compression and abort signal.
   * @returns `true` when stored, `false` when the key is absent.
   * @throws {TypeError | RangeError} For a bad key or value.
   */
  replace(key: string, value: unknown, options: StoreOptions = {}): Promise<boolean> {
    return this.#store("replace", key, value, 0n, options);
  }

  /**
   * Appends bytes to a stored value (the flags stay those of the stored value).
   *
   * @param key The key.
   * @param value The bytes or text to append; never compressed.
   * @param options Noreply and abort signal.
   * @returns `true` when appended, `false` when the key is absent.
   * @throws {TypeError | RangeError} For a bad key or value.
   */
  append(key: string, value: Uint8Array | string, options: StoreOptions = {}): Promise<boolean> {
    return this.#store("append", key, value, 0n, { ...options, minCompressLen: 0 });
  }

  /**
   * Prepends bytes to a stored value (the flags stay those of the stored value).
   *
   * @param key The key.
   * @param value The bytes or text to prepend; never compressed.
   * @param options Noreply and abort signal.
   * @returns `true` when prepended, `false` when the key is absent.
   * @throws {TypeError | RangeError} For a bad key or value.
   */
  prepend(key: string, value: Uint8Array | string, options: StoreOptions = {}): Promise<boolean> {
    return this.#store("prepend", key, value, 0n, { ...options, minCompressLen: 0 });
  }

  /**
   * Stores a value only if it has not changed since `gets` gave `casToken`.
   * Without a token, with `cacheCas` on, uses the token of the last `gets`
   * of the key, or stores unconditionally when there is none, as
   * python-memcached does.
   *
   * @param key The key.
   * @param value The value.
   * @param casToken The token from {@linkcode Client.gets}.
   * @param options Expiry, noreply, compression and abort signal.
   * @returns `true` when stored; `false` when the item changed or is gone.
   * @throws {TypeError} Without a token when `cacheCas` is off; for a bad key or value.
   * @throws {RangeError} For a key or value over the limits.
   */
  cas(
    key: string,
    value: unknown,
    casToken?: bigint,
    options: StoreOptions = {},
  ): Promise<boolean> {
    let token = casToken;
    if (token === undefined) {
      if (!this.#cacheCas) {
        throw new TypeError("Cannot cas: no cas token given and cacheCas is off");
      }
      token = this.#casIds.get(key);
      if (token === undefined) return this.#store("set", key, value, 0n, options);
    }
    return this.#store("cas", key, value, token, options);
  }

  /**
   * Fetches a value.
   *
   * @param key The key.
   * @param options The abort signal.
   * @returns The value, or `undefined` on a miss.
   * @throws {ValueFlagsError} For a value stored with flags this client cannot decode.
   */
  get<T = unknown>(key: string, options: CallOptions = {}): Promise<T | undefined> {
    return this.#retrieve<T>(key, false, options).then((r) => r?.value);
  }

  /**
   * Fetches a value and its cas token (remembered for `cas` when `cacheCas` is on).
   *
   * @param key The key.
   * @param options The abort signal.
   * @returns The value and token, or `undefined` on a miss.
   * @throws {ValueFlagsError} For a value stored with flags this client cannot decode.
   */
  async gets<T = unknown>(
    key: string,
    options: CallOptions = {},
  ): Promise<CasValue<T> | undefined> {
    const result = await this.#retrieve<T>(key, true, options);
    if (result !== undefined && this.#cacheCas) this.#casIds.set(key, result.cas);
    return result;
  }

  /** Forgets the cas tokens `cacheCas` remembered. */
  resetCas(): void {
    this.#casIds.clear();
  }

  /**
   * Deletes a key.
   *
   * @param key The key.
   * @param options Noreply and abort signal.
   * @returns `true` when deleted, `false` when absent.
   */
  delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const bytes = this.#key(key);
    return this.#route(bytes, (connection) => {
      const write = (sink: Parameters<typeof writeRequest>[0]) =>
        writeRequest(sink, { type: "delete", key: bytes, noreply: options.noreply ?? false });
      return options.noreply
        ? connection.sendQuiet(write).then(() => true)
        : connection.send(write, DELETE_READER, options.signal);
    }, options.signal);
  }

  /**
   * Adds to a counter.
   *
   * @param key The key of a decimal value.
   * @param delta What to add, up to 2^64 - 1.
   * @param options The abort signal.
   * @returns The new value (a number when a safe integer, else a bigint), or
   *   `undefined` when the key is absent.
   * @throws {ClientError} When the stored value is not a number.
   */
  incr(
    key: string,
    delta: number | bigint = 1,
    options: CallOptions = {},
  ): Promise<number | bigint | undefined> {
    return this.#arithmetic("incr", key, delta, options);
  }

  /**
   * Subtracts from a counter, stopping at 0.
   *
   * @param key The key of a decimal value.
   * @param delta What to subtract, up to 2^64 - 1.
   * @param options The abort signal.
   * @returns The new value (a number when a safe integer, else a bigint), or
   *   `undefined` when the key is absent.
   * @throws {ClientError} When the stored value is not a number.
   */
  decr(
    key: string,
    delta: number | bigint = 1,
    options: CallOptions = {},
  ): Promise<number | bigint | undefined> {
    return this.#arithmetic("decr", key, delta, options);
  }

  /**
   * Sets a new expiry on a key.
   *
   * @param key The key.
   * @param exptime The new expiry.
   * @param options Noreply and abort signal.
   * @returns `true` when touched, `false` when absent.
   */
  touch(key: string, exptime: number, options: DeleteOptions = {}): Promise<boolean> {
    const bytes = this.#key(key);
    return this.#route(bytes, (connection) => {
      const write = (sink: Parameters<typeof writeRequest>[0]) =>
        writeRequest(sink, {
          type: "touch",
          key: bytes,
          exptime,
          noreply: options.noreply ?? false,
        });
      return options.noreply
        ? connection.sendQuiet(write).then(() => true)
        : connection.send(write, TOUCH_READER, options.signal);
    }, options.signal);
  }

  /**
   * Fetches many keys: one `get` per server, all servers at once. Keys on
   * servers that fail are missing from the result.
   *
   * @param keys The keys, without the prefix.
   * @param options The key prefix and abort signal.
   * @returns The values found, by key without the prefix.
   * @throws {ValueFlagsError} For a value stored with flags this client cannot decode.
   */
  async getMulti<T = unknown>(
    keys: Iterable<string>,
    options: MultiOptions = {},
  ): Promise<Record<string, T>> {
    const prefix = options.keyPrefix ?? this.#keyPrefix;
    const wanted = new Map<string, string>();
    const all: Uint8Array[] = [];
    for (const key of keys) {
      const bytes = this.#key(prefix + key);
      const name = latin1(bytes);
      if (!wanted.has(name)) all.push(bytes);
      wanted.set(name, key);
    }
    const found: Record<string, T> = {};
    let todo = all;
    for (let round = 0; todo.length > 0 && round <= this.#servers.length; round++) {
      const groups = this.#group(todo);
      todo = [];
      await Promise.all([...groups].map(async ([index, group]) => {
        const server = this.#servers[index];
        try {
          await server.connection.send(
            (sink) =>
              writeRequest(sink, {
                type: "retrieval",
                command: "get",
                keys: group,
                exptime: 0,
                badKey: false,
              }),
            this.#multiReader(wanted, found),
            options.signal,
          );
        } catch (error) {
          if (error instanceof UnsentError) todo.push(...group);
          else if (!(error instanceof ConnectionError)) throw error;
        }
      }));
    }
    return found;
  }

  /**
   * Stores many values, pipelined: one write per server.
   *
   * @param entries The keys (without the prefix) and values.
   * @param options Expiry, key prefix, compression and abort signal.
   * @returns The keys (without the prefix) that were not stored, including
   *   those whose server failed.
   * @throws {TypeError | RangeError} For a bad key or value, before anything is sent.
   */
  async setMulti(
    entries: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    options: SetMultiOptions = {},
  ): Promise<string[]> {
    const prefix = options.keyPrefix ?? this.#keyPrefix;
    const pairs = Symbol.iterator in entries
      ? [...entries as Iterable<readonly [string, unknown]>]
      : Object.entries(entries);
    const encoded = pairs.map(([key, value]) => ({
      key,
      bytes: this.#key(prefix + key),
      value: this.#encode(value, options.minCompressLen),
    }));
    const results = await Promise.all(
      encoded.map(({ bytes, value }) =>
        this.#route(bytes, (connection) =>
          connection.send(
            (sink) =>
              writeRequest(sink, {
                type: "storage",
                command: "set",
                key: bytes,
                flags: value.flags,
                exptime: options.exptime ?? 0,
                cas: 0n,
                noreply: false,
                data: value.data,
                status: "ok",
              }),
            STORE_READER,
            options.signal,
          ), options.signal).catch((error) => {
            if (error instanceof ConnectionError) return false;
            throw error;
          })
      ),
    );
    return encoded.flatMap(({ key }, i) => results[i] ? [] : [key]);
  }

  /**
   * Deletes many keys, pipelined: one write per server.
   *
   * @param keys The keys, without the prefix.
   * @param options The key prefix and abort signal.
   * @returns `true` when every server answered (deleted or not found), as
   *   python-memcached's `delete_multi`.
   * @throws {TypeError | RangeError} For a bad key, before anything is sent.
   */
  async deleteMulti(keys: Iterable<string>, options: MultiOptions = {}): Promise<boolean> {
    const prefix = options.keyPrefix ?? this.#keyPrefix;
    const all = [...keys].map((key) => this.#key(prefix + key));
    const results = await Promise.all(
      all.map((bytes) =>
        this.#route(bytes, (connection) =>
          connection.send(
            (sink) => writeRequest(sink, { type: "delete", key: bytes, noreply: false }),
            DELETE_READER,
            options.signal,
          ), options.signal).then(() => true, (error) => {
            if (error instanceof ConnectionError) return false;
            throw error;
          })
      ),
    );
    return results.every(Boolean);
  }

  /**
   * Empties every live server.
   *
   * @param options The delay and abort signal.
   * @returns `true` when every server answered `OK`.
   */
  async flushAll(options: FlushOptions = {}): Promise<boolean> {
    const replies = await this.#everyServer(
      (sink) =>
        writeRequest(sink, { type: "flush_all", delay: options.delay ?? 0, noreply: false }),
      () => OK_READER,
      options.signal,
    );
    return replies.length === this.#servers.length;
  }

  /**
   * Asks every live server for its statistics.
   *
   * @param options The group and abort signal.
   * @returns For each server that answered, its `host:port` and statistics.
   */
  stats(options: StatsOptions = {}): Promise<[string, Record<string, string>][]> {
    return this.#everyServer(
      (sink) =>
        writeRequest(sink, {
          type: "stats",
          args: options.group === undefined ? [] : [options.group],
        }),
      statsReader,
      options.signal,
    );
  }

  /**
   * Asks every live server for its version.
   *
   * @param options The abort signal.
   * @returns For each server that answered, its `host:port` and version.
   */
  version(options: CallOptions = {}): Promise<[string, string][]> {
    return this.#everyServer(
      (sink) => writeRequest(sink, { type: "version" }),
      () => VERSION_READER,
      options.signal,
    );
  }

  /** Closes every connection; pending calls fail with `ConnectionError`. */
  close(): void {
    this.#closed = true;
    for (const server of this.#servers) server.connection.close();
  }

  /**
   * Closes the client, for `await using`.
   *
   * @returns A settled promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #key(key: string): Uint8Array {
    if (typeof key !== "string") {
      throw new TypeError(`Cannot use key: expected a string, got ${typeof key}`);
    }
    const bytes = encoder.encode(key);
    if (bytes.length === 0 || bytes.length > this.#maxKeyLength) {
      throw new RangeError(
        `Cannot use key: length ${bytes.length} is outside 1..${this.#maxKeyLength} bytes`,
      );
    }
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] <= 0x20 || bytes[i] === 0x7f) {
        throw new TypeError(
          `Cannot use key "${key}": byte ${i} is a control character or space`,
        );
      }
    }
    return bytes;
  }

  #encode(value: unknown, minCompressLen?: number): { flags: number; data: Uint8Array } {
    const encoded = this.#codec.encode(value, minCompressLen);
    if (this.#maxValueLength > 0 && encoded.data.length > this.#maxValueLength) {
      throw new RangeError(
        `Cannot store value: ${encoded.data.length} bytes is over the limit of ${this.#maxValueLength}`,
      );
    }
    return encoded;
  }

  #markDead(server: Server, error: ConnectionError): void {
    server.deadUntil = performance.now() + this.#deadRetry;
    if (this.#debug && !this.#closed) {
      console.error(`MemCached: ${server.name}: ${error.message}; marked dead`);
    }
  }

  #pick(key: Uint8Array): Server {
    const index = this.#router.pick(key, this.#alive);
    const server = this.#servers[index];
    if (server === undefined) {
      throw new NoServerError("Cannot route key: no live server", { key: latin1(key) });
    }
    return server;
  }

  /** Runs a call on the key's server; when it could not even connect, reroutes (nothing was sent). */
  async #route<T>(
    key: Uint8Array,
    call: (connection: Connection) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (this.#closed) {
      throw new ConnectionError("Cannot send request: the client is closed");
    }
    signal?.throwIfAborted();
    for (let attempt = 0;; attempt++) {
      const server = this.#pick(key);
      try {
        return await call(server.connection);
      } catch (error) {
        if (!(error instanceof UnsentError) || attempt >= this.#servers.length) throw error;
      }
    }
  }

  #store(
    command: StorageCommand,
    key: string,
    value: unknown,
    cas: bigint,
    options: StoreOptions,
  ): Promise<boolean> {
    try {
      const bytes = this.#key(key);
      const { flags, data } = this.#encode(value, options.minCompressLen);
      const noreply = options.noreply ?? false;
      const write = (sink: Parameters<typeof writeRequest>[0]) =>
        writeRequest(sink, {
          type: "storage",
          command,
          key: bytes,
          flags,
          exptime: options.exptime ?? 0,
          cas,
          noreply,
          data,
          status: "ok",
        });
      return this.#route(
        bytes,
        (connection) =>
          noreply
            ? connection.sendQuiet(write).then(() => true)
            : connection.send(write, STORE_READER, options.signal),
        options.signal,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #retrieve<T>(
    key: string,
    withCas: boolean,
    options: CallOptions,
  ): Promise<CasValue<T> | undefined> {
    try {
      const bytes = this.#key(key);
      const codec = this.#codec;
      return this.#route(bytes, (connection) => {
        let result: CasValue<T> | undefined;
        let failure: unknown;
        return connection.send((sink) =>
          writeRequest(sink, {
            type: "retrieval",
            command: withCas ? "gets" : "get",
            keys: [bytes],
            exptime: 0,
            badKey: false,
          }), {
          frame(frame) {
            if (frame.type === "value") {
              try {
                result = {
                  value: codec.decode(frame.flags, frame.data, key) as T,
                  cas: frame.cas ?? 0n,
                };
              } catch (error) {
                failure = error;
              }
              return undefined;
            }
            if (frame.type !== "end") unexpected(frame);
            return failure === undefined ? { value: result } : { error: failure };
          },
        }, options.signal);
      }, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #arithmetic(
    command: "incr" | "decr",
    key: string,
    delta: number | bigint,
    options: CallOptions,
  ): Promise<number | bigint | undefined> {
    try {
      const bytes = this.#key(key);
      if (typeof delta === "number" && !Number.isSafeInteger(delta)) {
        throw new RangeError(`Cannot ${command}: delta ${delta} is not an integer`);
      }
      const big = BigInt(delta);
      if (big < 0n || big > 0xffff_ffff_ffff_ffffn) {
        throw new RangeError(`Cannot ${command}: delta ${delta} is outside 0..2^64-1`);
      }
      return this.#route(bytes, (connection) =>
        connection.send(
          (sink) =>
            writeRequest(sink, {
              type: "arithmetic",
              command,
              key: bytes,
              delta: big,
              noreply: false,
            }),
          ARITHMETIC_READER,
          options.signal,
        ), options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #group(keys: Uint8Array[]): Map<number, Uint8Array[]> {
    const groups = new Map<number, Uint8Array[]>();
    for (const key of keys) {
      const index = this.#router.pick(key, this.#alive);
      if (index < 0) continue;
      let group = groups.get(index);
      if (group === undefined) groups.set(index, group = []);
      group.push(key);
    }
    return groups;
  }

  #multiReader<T>(wanted: Map<string, string>, found: Record<string, T>): ReplyReader<void> {
    const codec = this.#codec;
    let failure: unknown;
    return {
      frame(frame) {
        if (frame.type === "value") {
          const name = wanted.get(latin1(frame.key));
          if (name !== undefined) {
            try {
              found[name] = codec.decode(frame.flags, frame.data, name) as T;
            } catch (error) {
              failure ??= error;
            }
          }
          return undefined;
        }
        if (frame.type !== "end") unexpected(frame);
        return failure === undefined ? { value: undefined } : { error: failure };
      },
    };
  }

  async #everyServer<T>(
    write: Parameters<Connection["send"]>[0],
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
}
