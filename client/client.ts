/**
 * The sharded, pipelined memcached client.
 *
 * @module
 */

import { ConnectionError } from "../protocol/errors.ts";
import { writeRequest } from "../protocol/request_encoder.ts";
import type { ByteSink } from "../protocol/write_buffer.ts";
import { Cluster, parseServers } from "./_cluster.ts";
import { getMulti, type MultiGetContext } from "./_get_multi.ts";
import { GetOrSet } from "./_get_or_set.ts";
import { KeyEncoder } from "./_key_encoder.ts";
import { LimitedCodec } from "./_limited_codec.ts";
import { Requests } from "./_requests.ts";
import { resolveOptions } from "./_settings.ts";
import { metaArithmeticFlags, metaDeleteFlags, metaSetFlags } from "./_meta_flags.ts";
import {
  DELETE_READER,
  META_ARITHMETIC_READER,
  META_DELETE_READER,
  META_SET_READER,
  OK_READER,
  statsReader,
  TOUCH_READER,
  VERSION_READER,
} from "./_readers.ts";
import type {
  GetOrSetOptions,
  MetaArithmeticOptions,
  MetaArithmeticResult,
  MetaDeleteOptions,
  MetaDeleteResult,
  MetaGetOptions,
  MetaGetResult,
  MetaSetOptions,
  MetaSetResult,
} from "./meta.ts";
import type {
  CallOptions,
  CasValue,
  ClientOptions,
  DeadServer,
  DeleteOptions,
  FlushOptions,
  MultiOptions,
  ServerAddress,
  SetMultiOptions,
  StatsOptions,
  StoreOptions,
  TouchOptions,
} from "./options.ts";

/** The data block of a meta request that carries none. */
const EMPTY = new Uint8Array(0);

/**
 * A multi call's failures: each server failure counts as one key not done,
 * and when every key failed, the call rejects with the first failure.
 */
class Failures {
  #errors: ConnectionError[] = [];

  /** A server failure as `false`; anything else is rethrown. */
  readonly asFalse = (error: unknown): false => {
    if (!(error instanceof ConnectionError)) throw error;
    this.#errors.push(error);
    return false;
  };

  /** Rejects when every one of `count` keys failed, so an unreachable cluster is not silent. */
  throwIfAll(count: number): void {
    if (count > 0 && this.#errors.length === count) throw this.#errors[0];
  }
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
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client } from "@x/memcache/client";
 * import { serve } from "@x/memcache/server";
 *
 * await using server = serve({ port: 0 });
 * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
 * await client.set("greeting", "hello", { ttl: 60 });
 * assert.equal(await client.get("greeting"), "hello");
 * await client.set("visits", 41);
 * assert.equal(await client.incr("visits"), 42);
 * ```
 */
export class Client implements AsyncDisposable {
  #cluster: Cluster;
  #keys: KeyEncoder;
  #codec: LimitedCodec;
  #keyPrefix: string;
  #cacheCas: boolean;
  #casIds = new Map<string, bigint>();
  #multiGet: MultiGetContext;
  #requests: Requests;
  #getOrSet: GetOrSet;

  /**
   * Creates a client; connections open on first use.
   *
   * @param servers The servers, in the order other clients are given them.
   * @param options See {@linkcode ClientOptions}.
   * @throws {TypeError} For a server address that is not `host:port`.
   * @throws {RangeError} For an empty server list, a bad weight or a bad limit.
   */
  constructor(servers: readonly ServerAddress[], options?: ClientOptions) {
    const specs = parseServers(servers);
    const settings = resolveOptions(options);
    this.#cacheCas = settings.cacheCas;
    this.#keys = new KeyEncoder(settings.serverMaxKeyLength);
    this.#keyPrefix = settings.keyPrefix;
    this.#codec = new LimitedCodec({
      minCompressLen: settings.minCompressLen,
      serializer: settings.serializer,
      undecodable: settings.undecodable,
      maxValueLength: settings.serverMaxValueLength,
    });
    this.#cluster = new Cluster(specs, settings);
    this.#requests = new Requests(this.#cluster, this.#keys, this.#codec);
    this.#multiGet = {
      cluster: this.#cluster,
      keys: this.#keys,
      codec: this.#codec,
      keyPrefix: this.#keyPrefix,
    };
    this.#getOrSet = new GetOrSet({
      metaGet: (key, options) => this.#requests.metaGet(key, options),
      metaSet: (key, value, options) => this.metaSet(key, value, options),
      metaDelete: (key, options) => this.metaDelete(key, options),
    });
  }

  /** The servers as `host:port` (`[ipv6]:port`, `unix:/path`), in the order given. */
  get servers(): string[] {
    return this.#cluster.names;
  }

  /**
   * The servers left out of routing now, each with its error and until when.
   * Their keys go to the live ones; with none live, calls reject naming them.
   */
  get deadServers(): DeadServer[] {
    return this.#cluster.dead();
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
  set(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#requests.store("set", key, value, 0n, options);
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
  add(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#requests.store("add", key, value, 0n, options);
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
  replace(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#requests.store("replace", key, value, 0n, options);
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
  append(key: string, value: Uint8Array | string, options?: StoreOptions): Promise<boolean> {
    return this.#requests.store("append", key, value, 0n, { ...options, minCompressLen: 0 });
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
  prepend(key: string, value: Uint8Array | string, options?: StoreOptions): Promise<boolean> {
    return this.#requests.store("prepend", key, value, 0n, { ...options, minCompressLen: 0 });
  }

  /**
   * Stores a value only if it has not changed since `gets` gave `casToken`.
   * Without a token, uses the token of the last `gets` of the key when
   * `cacheCas` is on, and otherwise stores unconditionally, as
   * python-memcached's `cas` falls back to `set`.
   *
   * @param key The key.
   * @param value The value.
   * @param casToken The token from {@linkcode Client.gets}.
   * @param options Expiry, noreply, compression and abort signal.
   * @returns `true` when stored; `false` when the item changed or is gone.
   * @throws {TypeError} For a bad key or value.
   * @throws {RangeError} For a key or value over the limits.
   */
  cas(
    key: string,
    value: unknown,
    casToken?: bigint,
    options?: StoreOptions,
  ): Promise<boolean> {
    const token = casToken ?? (this.#cacheCas ? this.#casIds.get(key) : undefined);
    return token === undefined
      ? this.#requests.store("set", key, value, 0n, options)
      : this.#requests.store("cas", key, value, token, options);
  }

  /**
   * Fetches a value.
   *
   * @param key The key.
   * @param options The abort signal.
   * @returns The value, or `undefined` on a miss.
   * @throws {ValueFlagsError} For a value stored with flags this client cannot decode.
   */
  get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    return this.#requests.retrieve<T>("get", key, options);
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
    options?: CallOptions,
  ): Promise<CasValue<T> | undefined> {
    const result = await this.#requests.retrieve<CasValue<T>>("gets", key, options);
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
  delete(key: string, options?: DeleteOptions): Promise<boolean> {
    options ??= {};
    const bytes = this.#keys.encode(key);
    const noreply = options.noreply ?? false;
    const write = (sink: ByteSink) => writeRequest(sink, { type: "delete", key: bytes, noreply });
    return this.#requests.sendOrQuiet(bytes, write, DELETE_READER, options);
  }

  /**
   * Adds to a counter.
   *
   * @param key The key of a decimal value.
   * @param delta What to add, up to 2^64 - 1; 1 when omitted.
   * @param options The abort signal.
   * @returns The new value (a number when a safe integer, else a bigint), or
   *   `undefined` when the key is absent.
   * @throws {ClientError} When the stored value is not a number.
   */
  incr(
    key: string,
    delta?: number | bigint,
    options?: CallOptions,
  ): Promise<number | bigint | undefined> {
    return this.#requests.arithmetic("incr", key, delta ?? 1, options);
  }

  /**
   * Subtracts from a counter, stopping at 0.
   *
   * @param key The key of a decimal value.
   * @param delta What to subtract, up to 2^64 - 1; 1 when omitted.
   * @param options The abort signal.
   * @returns The new value (a number when a safe integer, else a bigint), or
   *   `undefined` when the key is absent.
   * @throws {ClientError} When the stored value is not a number.
   */
  decr(
    key: string,
    delta?: number | bigint,
    options?: CallOptions,
  ): Promise<number | bigint | undefined> {
    return this.#requests.arithmetic("decr", key, delta ?? 1, options);
  }

  /**
   * Sets a new expiry on a key.
   *
   * @param key The key.
   * @param ttl Seconds to live from now: 0 never expires, over 30 days a Unix time.
   * @param options Noreply and abort signal.
   * @returns `true` when touched, `false` when absent.
   */
  touch(key: string, ttl: number, options?: TouchOptions): Promise<boolean> {
    options ??= {};
    const bytes = this.#keys.encode(key);
    const noreply = options.noreply ?? false;
    const write = (sink: ByteSink) =>
      writeRequest(sink, { type: "touch", key: bytes, exptime: ttl, noreply });
    return this.#requests.sendOrQuiet(bytes, write, TOUCH_READER, options);
  }

  /**
   * Fetches an item with meta get (`mg`): the value and whichever of its
   * cas token, TTL, size, hit and last access are asked for, and the
   * recache hints (`win`, `stale`, `alreadyWon`) of memcached's
   * anti-dogpiling flags. Pipelined with every other call.
   *
   * @example Who recaches a missing key
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client } from "@x/memcache/client";
   * import { serve } from "@x/memcache/server";
   *
   * await using server = serve({ port: 0 });
   * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
   * const item = await client.metaGet("report", { cas: true, vivifyOnMiss: 30 });
   * assert.equal(item?.win, true); // this caller loads it; others see alreadyWon
   * await client.metaSet("report", "fresh", { cas: item.cas, ttl: 300 });
   * assert.equal(await client.get("report"), "fresh");
   * ```
   *
   * @param key The key.
   * @param options What to return and how to change the item; see {@linkcode MetaGetOptions}.
   * @returns What was asked for, or `undefined` on a miss (never with `vivifyOnMiss`).
   * @throws {TypeError | RangeError} For a bad key or option, before anything is sent.
   * @throws {ValueFlagsError} For a value stored with flags this client cannot decode.
   */
  async metaGet<T = unknown>(
    key: string,
    options?: MetaGetOptions,
  ): Promise<MetaGetResult<T> | undefined> {
    options ??= {};
    const hit = await this.#requests.metaGet<T>(key, options);
    if (hit?.failure !== undefined) throw hit.failure;
    return hit?.result;
  }

  /**
   * Stores a value with meta set (`ms`), in any mode, optionally against a
   * cas token, with the same flags and encoding as `set`.
   *
   * @example Store only if nobody changed it
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client } from "@x/memcache/client";
   * import { serve } from "@x/memcache/server";
   *
   * await using server = serve({ port: 0 });
   * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
   * await client.set("stock", 10);
   * const item = await client.metaGet<number>("stock", { cas: true });
   * const { stored } = await client.metaSet("stock", item!.value! - 1, { cas: item!.cas });
   * assert.equal(stored, true);
   * assert.equal(await client.get("stock"), 9);
   * ```
   *
   * @param key The key.
   * @param value The value; only bytes or text for `append` and `prepend`.
   * @param options Mode, expiry, cas and what to return; see {@linkcode MetaSetOptions}.
   * @returns Whether it was stored, why not, and the new cas token when asked for.
   * @throws {TypeError | RangeError} For a bad key, value or option, before anything is sent.
   */
  metaSet(key: string, value: unknown, options?: MetaSetOptions): Promise<MetaSetResult> {
    options ??= {};
    try {
      const bytes = this.#keys.encode(key);
      const appending = options.mode === "append" || options.mode === "prepend";
      if (appending && typeof value !== "string" && !(value instanceof Uint8Array)) {
        throw new TypeError(`Cannot ${options.mode} to "${key}": the value is not bytes or text`);
      }
      const encoded = this.#codec.encode(value, appending ? 0 : options.minCompressLen);
      const flags = metaSetFlags(options, encoded.flags);
      return this.#requests.meta("ms", bytes, flags, encoded.data, META_SET_READER, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Deletes an item with meta delete (`md`), or with `invalidate` marks it
   * stale so one reader recaches it while the others still get the old value.
   *
   * @example Invalidate after a write to the database
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client } from "@x/memcache/client";
   * import { serve } from "@x/memcache/server";
   *
   * await using server = serve({ port: 0 });
   * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
   * await client.set("user:42", "Ada");
   * const { deleted } = await client.metaDelete("user:42", { invalidate: true, ttl: 30 });
   * assert.equal(deleted, true);
   * const item = await client.metaGet("user:42");
   * assert.equal(item?.stale, true); // still readable, and this caller won the recache
   * assert.equal(item?.win, true);
   * ```
   *
   * @param key The key.
   * @param options Cas, invalidation and abort signal; see {@linkcode MetaDeleteOptions}.
   * @returns Whether it was deleted (or invalidated), and why not.
   * @throws {TypeError | RangeError} For a bad key or option, before anything is sent.
   */
  metaDelete(key: string, options?: MetaDeleteOptions): Promise<MetaDeleteResult> {
    options ??= {};
    try {
      const bytes = this.#keys.encode(key);
      const flags = metaDeleteFlags(options);
      return this.#requests.meta("md", bytes, flags, EMPTY, META_DELETE_READER, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Adds to or subtracts from a counter with meta arithmetic (`ma`),
   * optionally creating it on a miss. A counter created so has client flags
   * 0, so `get` returns its bytes; read it back with `metaArithmetic` and
   * `delta: 0`.
   *
   * @example A counter that starts itself
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client } from "@x/memcache/client";
   * import { serve } from "@x/memcache/server";
   *
   * await using server = serve({ port: 0 });
   * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
   * const first = await client.metaArithmetic("hits", { vivifyOnMiss: 0, initial: 1 });
   * assert.equal(first.value, 1);
   * const next = await client.metaArithmetic("hits", { vivifyOnMiss: 0, initial: 1 });
   * assert.equal(next.value, 2);
   * ```
   *
   * @param key The key of a decimal value.
   * @param options Mode, delta, creation, expiry and cas; see {@linkcode MetaArithmeticOptions}.
   * @returns The status, and the new value when stored (a number when a
   *   safe integer, else a bigint).
   * @throws {TypeError | RangeError} For a bad key or option, before anything is sent.
   * @throws {ClientError} When the stored value is not a number.
   */
  metaArithmetic(
    key: string,
    options?: MetaArithmeticOptions,
  ): Promise<MetaArithmeticResult> {
    options ??= {};
    try {
      const bytes = this.#keys.encode(key);
      const flags = metaArithmeticFlags(options);
      return this.#requests.meta("ma", bytes, flags, EMPTY, META_ARITHMETIC_READER, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Returns the cached value of a key, loading and storing it when missing
   * or going stale, with one loader call however many callers ask at once:
   * `mg` with `N` and `R` makes one caller the winner, which stores with
   * `ms C I`; the others get the old value within `staleTtl`, or wait for
   * the new one. If the loader throws, the win goes to the next caller and
   * the error to this one. An empty `Uint8Array` looks like the placeholder.
   *
   * @example Cache a slow query
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client } from "@x/memcache/client";
   * import { serve } from "@x/memcache/server";
   *
   * await using server = serve({ port: 0 });
   * await using client = new Client([`127.0.0.1:${server.addr.port}`]);
   * let queries = 0;
   * const query = () => ({ visits: 42 + queries++ }); // say, a database query
   * const options = { ttl: 60, staleTtl: 30 };
   * assert.deepEqual(await client.getOrSet("report:today", query, options), { visits: 42 });
   * assert.deepEqual(await client.getOrSet("report:today", query, options), { visits: 42 });
   * assert.equal(queries, 1); // the second call found it cached
   * ```
   *
   * @param key The key.
   * @param loader Computes the value; never called concurrently for one key
   *   by the callers that share the servers.
   * @param options Freshness, the stale window, the lock and waiting; see {@linkcode GetOrSetOptions}.
   * @returns The cached, stale or freshly loaded value.
   * @throws {TypeError | RangeError} For a bad key or option, or a loaded value that cannot be stored.
   * @throws {TimeoutError} When another caller was loading the key for longer than `maxWait`.
   * @throws {unknown} Whatever the loader throws, to the winner that ran it.
   */
  getOrSet<T>(
    key: string,
    loader: () => T | Promise<T>,
    options: GetOrSetOptions,
  ): Promise<T> {
    return this.#getOrSet.run(key, loader, options);
  }

  /**
   * Fetches many keys: one `get` per server, all servers at once. Keys on
   * servers that fail are missing from the result.
   *
   * @param keys The keys, without the prefix.
   * @param options The key prefix and abort signal.
   * @returns The values found, by key without the prefix, in an object with
   *   no prototype: any key, `__proto__` or `toString` too, is an own
   *   property when found and absent otherwise.
   * @throws {ValueFlagsError} For a value stored with flags this client cannot decode.
   */
  getMulti<T = unknown>(
    keys: Iterable<string>,
    options?: MultiOptions,
  ): Promise<Record<string, T>> {
    return getMulti<T>(this.#multiGet, keys, options ?? {});
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
    options?: SetMultiOptions,
  ): Promise<string[]> {
    options ??= {};
    const prefix = options.keyPrefix ?? this.#keyPrefix;
    const pairs = Symbol.iterator in entries
      ? [...entries as Iterable<readonly [string, unknown]>]
      : Object.entries(entries);
    const encoded = pairs.map(([key, value]) => ({
      key,
      bytes: this.#keys.encode(prefix + key),
      value: this.#codec.encode(value, options.minCompressLen),
    }));
    // Each value waits for its reply: setMulti takes no noreply.
    const store: StoreOptions = { ttl: options.ttl, signal: options.signal };
    const failures = new Failures();
    const results = await Promise.all(
      encoded.map(({ bytes, value }) =>
        this.#requests.sendStore("set", bytes, value, 0n, store).catch(failures.asFalse)
      ),
    );
    failures.throwIfAll(encoded.length);
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
  async deleteMulti(keys: Iterable<string>, options?: MultiOptions): Promise<boolean> {
    options ??= {};
    const prefix = options.keyPrefix ?? this.#keyPrefix;
    const all = [...keys].map((key) => this.#keys.encode(prefix + key));
    const failures = new Failures();
    const results = await Promise.all(
      all.map((bytes) => {
        const write = (sink: ByteSink) =>
          writeRequest(sink, { type: "delete", key: bytes, noreply: false });
        return this.#cluster.send(bytes, write, DELETE_READER, options.signal)
          .then(() => true, failures.asFalse);
      }),
    );
    failures.throwIfAll(all.length);
    return results.every(Boolean);
  }

  /**
   * Empties every live server.
   *
   * @param options The delay and abort signal.
   * @returns `true` when every server answered `OK`.
   */
  async flushAll(options?: FlushOptions): Promise<boolean> {
    options ??= {};
    const replies = await this.#cluster.everyServer(
      (sink) =>
        writeRequest(sink, { type: "flush_all", delay: options.delay ?? 0, noreply: false }),
      () => OK_READER,
      options.signal,
    );
    return replies.length === this.#cluster.size;
  }

  /**
   * Asks every live server for its statistics.
   *
   * @param options The group and abort signal.
   * @returns For each server that answered, its `host:port` and statistics.
   */
  stats(options?: StatsOptions): Promise<[string, Record<string, string>][]> {
    options ??= {};
    return this.#cluster.everyServer(
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
  version(options?: CallOptions): Promise<[string, string][]> {
    options ??= {};
    return this.#cluster.everyServer(
      (sink) => writeRequest(sink, { type: "version" }),
      () => VERSION_READER,
      options.signal,
    );
  }

  /** Closes every connection; pending calls fail with `ConnectionError`. */
  close(): void {
    this.#cluster.close();
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
}
