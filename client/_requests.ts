/**
 * The requests of one key, as the client's calls send them: the key and
 * value encoded and checked, the request written through the one encoder,
 * routed to the key's server, and its reply read.
 *
 * @module
 */

import { writeGetLine, writeRequest } from "../protocol/request_encoder.ts";
import type { StorageCommand } from "../protocol/requests.ts";
import type { ByteSink } from "../protocol/write_buffer.ts";
import type { Cluster } from "./_cluster.ts";
import type { KeyEncoder } from "./_key_encoder.ts";
import type { LimitedCodec } from "./_limited_codec.ts";
import { metaGetFlags } from "./_meta_flags.ts";
import {
  ARITHMETIC_READER,
  getReader,
  getsReader,
  metaGetReader,
  type MetaHit,
  STORE_READER,
} from "./_readers.ts";
import type { EncodedValue } from "./codec.ts";
import type { ReplyReader } from "./connection.ts";
import type { MetaGetOptions } from "./meta.ts";
import type { CallOptions, DeleteOptions, StoreOptions } from "./options.ts";

const EMPTY = new Uint8Array(0);

/** Sends one key's requests over a client's servers. */
export class Requests {
  #cluster: Cluster;
  #keys: KeyEncoder;
  #codec: LimitedCodec;

  /** Requests over `cluster`, with keys and values encoded as `keys` and `codec` do. */
  constructor(cluster: Cluster, keys: KeyEncoder, codec: LimitedCodec) {
    this.#cluster = cluster;
    this.#keys = keys;
    this.#codec = codec;
  }

  /** Encodes a key and value and sends the storage request. */
  store(
    command: StorageCommand,
    key: string,
    value: unknown,
    cas: bigint,
    options: StoreOptions | undefined,
  ): Promise<boolean> {
    try {
      const bytes = this.#keys.encode(key);
      const encoded = this.#codec.encode(value, options?.minCompressLen);
      return this.sendStore(command, bytes, encoded, cas, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends a storage request of a key and value already encoded. */
  sendStore(
    command: StorageCommand,
    key: Uint8Array,
    value: EncodedValue,
    cas: bigint,
    options: StoreOptions | undefined,
  ): Promise<boolean> {
    const { flags, data } = value;
    const noreply = options?.noreply ?? false;
    const exptime = options?.ttl ?? 0;
    const write = (sink: ByteSink) =>
      writeRequest(sink, {
        type: "storage",
        command,
        key,
        flags,
        exptime,
        cas,
        noreply,
        data,
        status: "ok",
      });
    return this.sendOrQuiet(key, write, STORE_READER, options);
  }

  /** Sends a one-key request; with `noreply`, resolves `true` once written instead of reading a reply. */
  sendOrQuiet(
    key: Uint8Array,
    write: (sink: ByteSink) => void,
    reader: ReplyReader<boolean>,
    options: DeleteOptions | undefined,
  ): Promise<boolean> {
    return options?.noreply
      ? this.#cluster.sendQuiet(key, write, options.signal)
      : this.#cluster.send(key, write, reader, options?.signal);
  }

  /** A get or gets of one key: the value, or the value and its cas token, as `command` asks. */
  retrieve<R>(
    command: "get" | "gets",
    key: string,
    options: CallOptions | undefined,
  ): Promise<R | undefined> {
    try {
      const bytes = this.#keys.encode(key);
      const codec = this.#codec;
      // The key was checked by KeyEncoder.encode: the line is written as is.
      const write = (sink: ByteSink) => writeGetLine(sink, command, bytes);
      const reader = command === "get"
        ? getReader(codec, key, bytes)
        : getsReader(codec, key, bytes);
      return this.#cluster.send(
        bytes,
        write,
        reader as ReplyReader<R | undefined>,
        options?.signal,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** An incr or decr, its delta checked before anything is sent. */
  arithmetic(
    command: "incr" | "decr",
    key: string,
    delta: number | bigint,
    options: CallOptions | undefined,
  ): Promise<number | bigint | undefined> {
    try {
      const bytes = this.#keys.encode(key);
      if (typeof delta === "number" && !Number.isSafeInteger(delta)) {
        throw new RangeError(`Cannot ${command}: delta ${delta} is not an integer`);
      }
      const big = BigInt(delta);
      if (big < 0n || big > 0xffff_ffff_ffff_ffffn) {
        throw new RangeError(`Cannot ${command}: delta ${delta} is outside 0..2^64-1`);
      }
      const write = (sink: ByteSink) =>
        writeRequest(sink, { type: "arithmetic", command, key: bytes, delta: big, noreply: false });
      return this.#cluster.send(bytes, write, ARITHMETIC_READER, options?.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends a meta request whose flags are already written. */
  meta<T>(
    command: "mg" | "ms" | "md" | "ma",
    key: Uint8Array,
    flags: Uint8Array[],
    data: Uint8Array,
    reader: ReplyReader<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const write = (sink: ByteSink) =>
      writeRequest(sink, { type: "meta", command, key, flags, data, status: "ok", tokenCount: 0 });
    return this.#cluster.send(key, write, reader, signal);
  }

  /** An `mg` as metaGet and getOrSet need it: the hit, and a decode failure kept aside. */
  metaGet<T>(key: string, options: MetaGetOptions): Promise<MetaHit<T> | undefined> {
    try {
      const bytes = this.#keys.encode(key);
      const flags = metaGetFlags(options);
      const reader = metaGetReader<T>(this.#codec, key, options);
      return this.meta("mg", bytes, flags, EMPTY, reader, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
