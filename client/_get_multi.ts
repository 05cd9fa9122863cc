/**
 * The client's `getMulti`: one `get` line per server, all servers at once,
 * and the replies read straight into the result.
 *
 * @module
 */

import { ConnectionError } from "../protocol/errors.ts";
import { writeGetLine, writeRequest } from "../protocol/request_encoder.ts";
import type { Cluster } from "./_cluster.ts";
import { type ValueCodec, ValueFlagsError } from "./codec.ts";
import { isUnsent, type ReplyReader } from "./connection.ts";
import { keyAt, type KeyBlock, type KeyEncoder, latin1 } from "./_key_encoder.ts";
import type { MultiOptions } from "./options.ts";
import { unexpected } from "./_readers.ts";

/** What a multi-get runs on: the client's servers, key checks and codec, and its key prefix. */
export interface MultiGetContext {
  /** The servers. */
  readonly cluster: Cluster;
  /** Checks and encodes the keys. */
  readonly keys: KeyEncoder;
  /** Decodes the values. */
  readonly codec: ValueCodec;
  /** The prefix of calls that give none. */
  readonly keyPrefix: string;
}

/** One call's result as the replies fill it. */
interface Fill<T> {
  /** The keys as the caller gave them, by place in the request. */
  names: string[];
  /** The keys as sent, prefix and all. */
  keys: KeyBlock;
  /** The values found, by name, in an object with no prototype. */
  found: Record<string, T>;
  /** How many places were answered, counted once `seen` exists. */
  count: number;
  /** 1 for each answered place; undefined until the result is prefilled. */
  seen: Uint8Array | undefined;
  /** The values that could not be decoded, each with why; the others are kept. */
  undecodable: ValueFlagsError[];
}

/** Holds a key's place in a `getMulti` result until its value comes. */
const MISSING: unknown = Symbol("missing");

/**
 * Fetches many keys: one `get` per server, all servers at once; keys whose
 * server could not be reached are rerouted, and keys on servers that fail
 * are missing from the result.
 *
 * @param context The client's servers, key encoder, codec and key prefix.
 * @param keys The keys, without the prefix.
 * @param options The key prefix and abort signal.
 * @returns The values found, by key without the prefix, in an object with no prototype.
 * @throws {TypeError | RangeError} For a bad key, before anything is sent.
 * @throws {ValueFlagsError} For a value stored with flags the codec cannot decode.
 */
export async function getMulti<T>(
  context: MultiGetContext,
  keys: Iterable<string>,
  options: MultiOptions,
): Promise<Record<string, T>> {
  const { cluster, codec } = context;
  const prefix = options.keyPrefix ?? context.keyPrefix;
  // A repeated key is asked again, as python-memcached does; each reply answers its own place.
  const names = [...keys];
  const keyBlock = context.keys.block(prefix === "" ? names : names.map((key) => prefix + key));
  // No prototype: "__proto__" and "toString" are keys like any other, and V8 keeps it a hash table.
  const found: Record<string, T> = Object.create(null);
  const fill: Fill<T> = {
    names,
    keys: keyBlock,
    found,
    count: 0,
    seen: undefined,
    undecodable: [],
  };
  let todo = names.map((_, i) => i);
  // With no server answering at all, the call fails; with some, it returns what they have.
  let answered = false;
  let failure: ConnectionError | undefined;
  for (let round = 0; todo.length > 0 && round <= cluster.size; round++) {
    // One clock reading for the round, not one per key.
    const now = performance.now();
    const alive = (index: number) => cluster.aliveAt(index, now);
    let groups: [number, number[]][];
    if (cluster.size === 1) {
      // One server holds every key: nothing to route.
      groups = cluster.tryable(0, now) ? [[0, todo]] : [];
    } else {
      const byServer = new Map<number, number[]>();
      for (const i of todo) {
        const index = cluster.pick(keyAt(keyBlock, i), now, alive);
        if (index < 0) continue;
        let group = byServer.get(index);
        if (group === undefined) byServer.set(index, group = []);
        group.push(i);
      }
      groups = [...byServer];
    }
    todo = [];
    const first = round === 0;
    const replies = Promise.all(groups.map(async ([index, group]) => {
      try {
        await cluster.connection(index).send(
          // Round one's group of every key is the whole line block() joined: written as is.
          first && group.length === names.length
            ? (sink) => writeGetLine(sink, "get", keyBlock.line)
            : (sink) =>
              writeRequest(sink, {
                type: "retrieval",
                command: "get",
                keys: group.map((i) => keyAt(keyBlock, i)),
                exptime: 0,
                badKey: false,
              }),
          multiReader(codec, fill, group),
          options.signal,
        );
        answered = true;
      } catch (error) {
        if (!(error instanceof ConnectionError)) throw error;
        failure = error;
        if (isUnsent(error)) todo.push(...group);
      }
    }));
    if (first && groups.every(([index]) => cluster.connection(index).pending === 1)) {
      // The round trip is idle time: prefill every key as MISSING, so hits write existing slots.
      await undefined; // Lets the queued writes go out first.
      for (let i = 0; i < names.length; i++) found[names[i]] = MISSING as T;
      fill.seen = new Uint8Array(names.length);
    }
    await replies;
  }
  if (fill.seen !== undefined && fill.count < names.length) {
    for (const name of names) if (found[name] === MISSING) delete found[name];
  }
  // Nothing came back from any server: the call says why instead of looking like misses.
  if (!answered && names.length > 0 && isEmpty(found)) throw failure ?? cluster.unreachable();
  if (fill.undecodable.length > 0) throw undecodable(fill.undecodable, found);
  return found;
}

/**
 * Reads one server's reply into the result. memcached answers hits in the
 * order they were asked for, so each key is looked for from just past the
 * previous hit; a key out of that order is looked up by name.
 */
function multiReader<T>(codec: ValueCodec, fill: Fill<T>, group: number[]): ReplyReader<void> {
  const { names, keys, found } = fill;
  const { line, starts } = keys;
  let failure: unknown;
  let next = 0;
  let byWire: Map<string, number> | undefined;
  // The hit whose key is buf[start, end): its place in the request, or -1.
  const place = (buf: Uint8Array, start: number, end: number): number => {
    const n = end - start;
    for (let at = next; at < group.length; at++) {
      const k = group[at];
      const from = starts[k];
      if (starts[k + 1] - 1 - from !== n) continue;
      let i = 0;
      while (i < n && line[from + i] === buf[start + i]) i++;
      if (i === n) {
        next = at + 1;
        return k;
      }
    }
    // Out of request order (a proxy may merge replies so): look the key up.
    byWire ??= new Map(group.map((i) => [latin1(keyAt(keys, i)), i]));
    return byWire.get(latin1(buf.subarray(start, end))) ?? -1;
  };
  const take = (index: number, flags: number, data: Uint8Array): void => {
    const name = names[index];
    try {
      found[name] = codec.decode(flags, data, name) as T;
    } catch (error) {
      // One value that cannot be decoded must not lose the others.
      if (error instanceof ValueFlagsError) fill.undecodable.push(error);
      else failure ??= error;
      return;
    }
    const seen = fill.seen;
    if (seen !== undefined && seen[index] === 0) {
      seen[index] = 1;
      fill.count++;
    }
  };
  return {
    value(span) {
      const buf = span.buffer;
      const index = place(buf, span.keyStart, span.keyEnd);
      if (index >= 0) take(index, span.flags, buf.subarray(span.dataStart, span.dataEnd));
    },
    frame(frame) {
      if (frame.type === "value") {
        const index = place(frame.key, 0, frame.key.length);
        if (index >= 0) take(index, frame.flags, frame.data);
        return undefined;
      }
      if (frame.type !== "end") unexpected(frame);
      return failure === undefined ? { value: undefined } : { error: failure };
    },
  };
}

function isEmpty(found: Record<string, unknown>): boolean {
  for (const _ in found) return false;
  return true;
}

/** One error for the values a getMulti could not decode, holding the values it could. */
function undecodable(errors: ValueFlagsError[], found: Record<string, unknown>): ValueFlagsError {
  const [first] = errors;
  const others = errors.slice(1).map((e) => `"${e.key}"`);
  const more = others.length === 0 ? "" : ` (and ${others.join(", ")} likewise)`;
  return new ValueFlagsError(`${first.message}${more}; the other values are in .found`, {
    flags: first.flags,
    key: first.key,
    found,
    cause: errors.length === 1 ? first : new AggregateError(errors),
  });
}
