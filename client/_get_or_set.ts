/**
 * The client's `getOrSet`: one loader call for many callers, built on
 * memcached's anti-dogpiling meta flags.
 *
 * @module
 */

import { ConnectionError, TimeoutError } from "../protocol/errors.ts";
import { REALTIME_MAXDELTA } from "../protocol/limits.ts";
import type {
  GetOrSetOptions,
  MetaDeleteOptions,
  MetaDeleteResult,
  MetaGetOptions,
  MetaSetOptions,
  MetaSetResult,
} from "./meta.ts";
import type { MetaHit } from "./_readers.ts";

/** The longest relative expiry memcached takes; longer ones are Unix times. */

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function wholeSeconds(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot get or set: ${name} ${value} is outside ${min}..${max} seconds`);
  }
  return value;
}

/** The client's meta calls getOrSet is built on. */
export interface MetaCalls {
  /**
   * Sends an `mg`.
   *
   * @param key The key.
   * @param options The `mg` options.
   * @returns The hit with its placeholder flag and any decode failure, or undefined on a miss.
   */
  metaGet<T>(key: string, options: MetaGetOptions): Promise<MetaHit<T> | undefined>;
  /**
   * Sends an `ms`, as {@linkcode Client.metaSet}.
   *
   * @param key The key.
   * @param value The value.
   * @param options The `ms` options.
   * @returns What the server did.
   */
  metaSet(key: string, value: unknown, options: MetaSetOptions): Promise<MetaSetResult>;
  /**
   * Sends an `md`, as {@linkcode Client.metaDelete}.
   *
   * @param key The key.
   * @param options The `md` options.
   * @returns What the server did.
   */
  metaDelete(key: string, options: MetaDeleteOptions): Promise<MetaDeleteResult>;
}

/** Runs {@linkcode Client.getOrSet} on a client's meta calls. */
export class GetOrSet {
  #calls: MetaCalls;

  /**
   * Creates the runner.
   *
   * @param calls The client's meta calls.
   */
  constructor(calls: MetaCalls) {
    this.#calls = calls;
  }

  /**
   * Returns the cached value of a key, loading and storing it when missing
   * or going stale, with one loader call however many callers ask at once.
   *
   * @param key The key.
   * @param loader Computes the value.
   * @param options Freshness, the stale window, the lock and waiting.
   * @returns The cached, stale or freshly loaded value.
   * @throws {TypeError | RangeError} For a bad key or option, or a loaded value that cannot be stored.
   * @throws {TimeoutError} When another caller was loading the key for longer than `maxWait`.
   * @throws {unknown} Whatever the loader throws, to the winner that ran it.
   */
  async run<T>(
    key: string,
    loader: () => T | Promise<T>,
    options: GetOrSetOptions,
  ): Promise<T> {
    if (typeof loader !== "function") {
      throw new TypeError(`Cannot get or set "${key}": the loader is not a function`);
    }
    const ttl = wholeSeconds("ttl", options?.ttl, 0, REALTIME_MAXDELTA);
    const staleTtl = wholeSeconds("staleTtl", options.staleTtl ?? 0, 0, REALTIME_MAXDELTA - ttl);
    if (ttl === 0 && staleTtl > 0) {
      throw new RangeError("Cannot get or set: staleTtl needs a ttl, and ttl 0 never expires");
    }
    const lockTtl = wholeSeconds("lockTtl", options.lockTtl ?? 10, 1, REALTIME_MAXDELTA);
    const maxWait = options.maxWait ?? lockTtl + 2;
    if (typeof maxWait !== "number" || !(maxWait >= 0 && maxWait <= REALTIME_MAXDELTA)) {
      throw new RangeError(
        `Cannot get or set: maxWait ${maxWait} is not 0..${REALTIME_MAXDELTA} seconds`,
      );
    }
    const store = { ttl: ttl === 0 ? 0 : ttl + staleTtl, minCompressLen: options.minCompressLen };
    const get: MetaGetOptions = {
      cas: true,
      vivifyOnMiss: lockTtl,
      recacheBelow: staleTtl > 0 ? staleTtl : undefined,
      signal: options.signal,
    };
    const deadline = performance.now() + maxWait * 1000;
    for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
      const hit = await this.#calls.metaGet<T>(key, get);
      if (hit === undefined) {
        // A miss despite N: the server could not vivify (out of memory), so there is no lock to take.
        const value = await loader();
        await this.#storeLoaded(key, value, { ...store, mode: "add" });
        return value;
      }
      const { result, placeholder } = hit;
      if (result.win) return this.#recache(key, loader, result.cas, placeholder, store);
      if (hit.failure !== undefined) throw hit.failure;
      // Z on vivify's empty placeholder: another caller is loading and there is nothing stale to serve.
      if (!(placeholder && result.alreadyWon)) return result.value as T;
      if (performance.now() + delay > deadline) {
        throw new TimeoutError(
          `Cannot get or set "${key}": another caller was loading it for over ${maxWait} s`,
          { key },
        );
      }
      await sleep(delay, options.signal);
    }
  }

  /** getOrSet's winner: load, store against the won cas token, or give the win back. */
  async #recache<T>(
    key: string,
    loader: () => T | Promise<T>,
    cas: bigint | undefined,
    placeholder: boolean,
    store: { ttl: number; minCompressLen: number | undefined },
  ): Promise<T> {
    const release = () =>
      // Without a token nothing can be released safely; the placeholder expires after lockTtl.
      cas === undefined ? Promise.resolve() : this.#calls.metaDelete(
        key,
        // Deleting the placeholder lets the next caller vivify and win; marking
        // an ageing value stale clears the win and keeps the value readable.
        placeholder ? { cas } : { cas, invalidate: true },
      ).then(() => {}, () => {});
    let value: T;
    try {
      value = await loader();
    } catch (error) {
      await release();
      throw error;
    }
    try {
      await this.#calls.metaSet(key, value, { ...store, cas, invalidate: cas !== undefined });
    } catch (error) {
      // The value is good even if the server is gone; anything else (a value
      // that cannot be stored) is the caller's to see, and the win goes back.
      if (error instanceof ConnectionError) return value;
      await release();
      throw error;
    }
    return value;
  }

  /** Stores what a loader gave; when the server cannot be reached the value is still good to return. */
  async #storeLoaded(key: string, value: unknown, options: MetaSetOptions): Promise<void> {
    try {
      await this.#calls.metaSet(key, value, options);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
    }
  }
}
