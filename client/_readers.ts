/**
 * How the client reads each kind of reply: a {@linkcode ReplyReader} per
 * command, turning frames into the results its calls return. No sockets
 * here.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import type { MetaResponse, Response } from "../protocol/response_parser.ts";
import type { ValueCodec } from "./codec.ts";
import type { ReplyReader } from "./connection.ts";
import { latin1 } from "./_key_encoder.ts";
import { readTokens } from "./_meta_flags.ts";
import type {
  MetaArithmeticResult,
  MetaDeleteResult,
  MetaGetOptions,
  MetaGetResult,
  MetaSetResult,
} from "./meta.ts";
import type { CasValue } from "./options.ts";

/** Refuses a frame no reply of this command has: the stream is out of step. */
export function unexpected(frame: Response): never {
  throw new ProtocolError(`Cannot read reply: unexpected ${JSON.stringify(frame.type)} frame`);
}

function toInteger(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Storage commands: true when stored; false on NOT_STORED, EXISTS or NOT_FOUND. */
export const STORE_READER: ReplyReader<boolean> = {
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

/** `delete`: true when deleted, false when absent. */
export const DELETE_READER = statusReader("DELETED", "NOT_FOUND");
/** `touch`: true when touched, false when absent. */
export const TOUCH_READER = statusReader("TOUCHED", "NOT_FOUND");
/** `flush_all`: true on OK. */
export const OK_READER = statusReader("OK", "OK");

/** `incr`/`decr`: the new value, or undefined when absent. */
export const ARITHMETIC_READER: ReplyReader<number | bigint | undefined> = {
  frame(frame) {
    if (frame.type === "number") return { value: toInteger(frame.value) };
    if (frame.type === "status" && frame.status === "NOT_FOUND") return { value: undefined };
    return unexpected(frame);
  },
};

/** `version`: the version string. */
export const VERSION_READER: ReplyReader<string> = {
  frame(frame) {
    return frame.type === "version" ? { value: frame.version } : unexpected(frame);
  },
};

/** `stats`: every STAT line until END, by name; a new reader per server. */
export function statsReader(): ReplyReader<Record<string, string>> {
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

function metaReader<T>(read: (frame: MetaResponse) => T): ReplyReader<T> {
  return {
    frame(frame) {
      return frame.type === "meta" ? { value: read(frame) } : unexpected(frame);
    },
  };
}

const META_SET_STATUS = { HD: "STORED", NS: "NOT_STORED", EX: "EXISTS", NF: "NOT_FOUND" } as const;
const META_DELETE_STATUS = { HD: "DELETED", NF: "NOT_FOUND", EX: "EXISTS" } as const;
const META_ARITHMETIC_STATUS = {
  VA: "STORED",
  HD: "STORED",
  NF: "NOT_FOUND",
  NS: "NOT_STORED",
  EX: "EXISTS",
} as const;

function metaStatus<S extends Record<string, string>>(
  statuses: S,
  frame: MetaResponse,
): S[keyof S] {
  const status = statuses[frame.code];
  if (status === undefined) unexpected(frame);
  return status as S[keyof S];
}

/** `ms`: whether stored, why not, and the tokens asked for. */
export const META_SET_READER = metaReader<MetaSetResult>((frame) => {
  const status = metaStatus(META_SET_STATUS, frame);
  const { cas, opaque } = readTokens(frame);
  const result: MetaSetResult = { stored: status === "STORED", status };
  // memcached sends c0 with NS; only a stored item has a token worth keeping.
  if (cas !== undefined && status === "STORED") result.cas = cas;
  if (opaque !== undefined) result.opaque = opaque;
  return result;
});

/** `md`: whether deleted, why not, and the opaque token. */
export const META_DELETE_READER = metaReader<MetaDeleteResult>((frame) => {
  const status = metaStatus(META_DELETE_STATUS, frame);
  const { opaque } = readTokens(frame);
  const result: MetaDeleteResult = { deleted: status === "DELETED", status };
  if (opaque !== undefined) result.opaque = opaque;
  return result;
});

/** `ma`: the status, the new value and the tokens asked for. */
export const META_ARITHMETIC_READER = metaReader<MetaArithmeticResult>((frame) => {
  const status = metaStatus(META_ARITHMETIC_STATUS, frame);
  const { cas, ttl, opaque } = readTokens(frame);
  const result: MetaArithmeticResult = { status };
  if (frame.code === "VA") {
    const text = latin1(frame.data);
    if (!/^\d{1,20}$/.test(text)) {
      throw new ProtocolError(`Cannot read ma reply: "${text.slice(0, 40)}" is not a number`);
    }
    result.value = toInteger(BigInt(text));
  }
  if (cas !== undefined) result.cas = cas;
  if (ttl !== undefined) result.ttl = ttl;
  if (opaque !== undefined) result.opaque = opaque;
  return result;
});

/** An `mg` hit as getOrSet needs it: vivify's placeholder or not, and any decode failure. */
export interface MetaHit<T> {
  /** What `metaGet` returns. */
  result: MetaGetResult<T>;
  /** No data and client flags 0: the empty item `vivifyOnMiss` creates. */
  placeholder: boolean;
  /** Why the value could not be decoded, to throw unless the caller won the recache. */
  failure?: unknown;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A get or gets reply of one key; `hit` makes the result from the value and its cas token. */
function valueReader<R>(
  codec: ValueCodec,
  key: string,
  bytes: Uint8Array,
  hit: (value: unknown, cas: bigint) => R,
): ReplyReader<R | undefined> {
  let result: R | undefined;
  let failure: unknown;
  return {
    frame(frame) {
      if (frame.type === "value") {
        // Another key's value means the replies are out of step: never hand it to this call.
        if (result !== undefined || failure !== undefined || !sameBytes(frame.key, bytes)) {
          throw new ProtocolError(
            `Cannot read reply to get "${key}": the server answered with "${
              latin1(frame.key).slice(0, 250)
            }"`,
          );
        }
        try {
          result = hit(codec.decode(frame.flags, frame.data, key), frame.cas ?? 0n);
        } catch (error) {
          failure = error;
        }
        return undefined;
      }
      if (frame.type !== "end") unexpected(frame);
      return failure === undefined ? { value: result } : { error: failure };
    },
  };
}

const asValue = (value: unknown): unknown => value;
const asCasValue = (value: unknown, cas: bigint): CasValue<unknown> => ({ value, cas });

/**
 * Reads the reply to a `get` of one key.
 *
 * @param codec Decodes the value.
 * @param key The key, for errors.
 * @param bytes The key as sent, which the reply's `VALUE` line must echo.
 * @returns The reader: the value, or undefined on a miss.
 */
export function getReader<T>(
  codec: ValueCodec,
  key: string,
  bytes: Uint8Array,
): ReplyReader<T | undefined> {
  return valueReader(codec, key, bytes, asValue) as ReplyReader<T | undefined>;
}

/**
 * Reads the reply to a `gets` of one key.
 *
 * @param codec Decodes the value.
 * @param key The key, for errors.
 * @param bytes The key as sent, which the reply's `VALUE` line must echo.
 * @returns The reader: the value and its cas token, or undefined on a miss.
 */
export function getsReader<T>(
  codec: ValueCodec,
  key: string,
  bytes: Uint8Array,
): ReplyReader<CasValue<T> | undefined> {
  return valueReader(codec, key, bytes, asCasValue) as ReplyReader<CasValue<T> | undefined>;
}

/**
 * Reads the reply to an `mg`: what was asked for, kept as a {@linkcode MetaHit}.
 *
 * @param codec Decodes the value.
 * @param key The key, for errors.
 * @param options The options the `mg` was sent with.
 * @returns The reader: the hit, or undefined on a miss.
 */
export function metaGetReader<T>(
  codec: ValueCodec,
  key: string,
  options: MetaGetOptions,
): ReplyReader<MetaHit<T> | undefined> {
  const withValue = options.value ?? true;
  return metaReader((frame) => {
    if (frame.code === "EN") return undefined;
    if (frame.code !== "VA" && frame.code !== "HD") unexpected(frame);
    const { clientFlags, ...tokens } = readTokens(frame);
    const result: MetaGetResult<T> = tokens;
    if (clientFlags !== undefined && options.clientFlags) result.clientFlags = clientFlags;
    const hit: MetaHit<T> = {
      result,
      placeholder: frame.data.length === 0 && (clientFlags ?? 0) === 0,
    };
    if (withValue) {
      try {
        result.value = codec.decode(clientFlags ?? 0, frame.data, key) as T;
      } catch (error) {
        hit.failure = error;
      }
    }
    return hit;
  });
}
