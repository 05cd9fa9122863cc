/**
 * Warm restart (memcached's `-e <file>`): a clean stop writes every live
 * item to the file, and the next start with the same settings puts them
 * back with their cas, remaining ttl and LRU order. The file is removed as
 * it is read, so a process that dies afterwards starts empty next time, and
 * a file that is torn, corrupt or written under other settings is never
 * loaded.
 *
 * The file: a header (magic, format version, `-m`, `-I`, cas on or off, the
 * stop time, the cas counter, the item count), the items, then a SHA-256 of
 * all that. Times are Unix seconds, so a ttl keeps running while the server
 * is down, as memcached's does.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Store } from "./_store.ts";

/** The settings an item layout depends on; a file written under others starts the cache empty. */
export interface WarmRestartSettings {
  memoryLimit: number;
  maxItemSize: number;
  cas: boolean;
}

/** A memory file that cannot be used at all: no permission for it, say. */
export class WarmRestartError extends Error {
  override name = "WarmRestartError";
}

const MAGIC = new TextEncoder().encode("XMCWARM\n");
const FORMAT_VERSION = 1;
/** Magic, version, cas, -m, -I, stop time, cas counter, count. */
const HEADER_BYTES = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 4;
/** Key length, marks, flags, value length, exptime, last access, cas. */
const RECORD_BYTES = 1 + 1 + 4 + 4 + 8 + 8 + 8;
const DIGEST_BYTES = 32;

const FETCHED = 1;
const STALE = 2;
const TOKEN_SENT = 4;
const BINARY_KEY = 8;

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/**
 * Checks at start that the file may be read, written and removed, so a
 * clean stop cannot be the first to find out.
 *
 * @throws {WarmRestartError} When Deno's permissions do not grant the path.
 */
export function checkMemoryFile(path: string): void {
  for (const name of ["read", "write"] as const) {
    if (Deno.permissions.querySync({ name, path }).state !== "granted") {
      throw new WarmRestartError(
        `Cannot use the memory file "${path}": it needs --allow-read and --allow-write`,
      );
    }
  }
}

/**
 * Writes the store's live items to `path`, atomically: a temporary file
 * renamed into place, so a stop cut short leaves no half-written file.
 *
 * @returns How many items were written.
 */
export function saveWarmRestart(path: string, store: Store, settings: WarmRestartSettings): number {
  const items = store.items;
  const slots = [...store.restart.liveItems()];
  let size = HEADER_BYTES + DIGEST_BYTES;
  for (const slot of slots) {
    size += RECORD_BYTES + items.key(slot).length + items.valueLength(slot);
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const clock = store.clock;
  bytes.set(MAGIC, 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, settings.cas ? 1 : 0, true);
  view.setFloat64(16, settings.memoryLimit, true);
  view.setFloat64(24, settings.maxItemSize, true);
  view.setFloat64(32, clock.unixTime(), true);
  view.setFloat64(40, store.restart.lastCas, true);
  view.setUint32(48, slots.length, true);
  let at = HEADER_BYTES;
  for (const slot of slots) {
    const key = items.key(slot);
    const value = items.value(slot);
    const exptime = items.exptime(slot);
    bytes[at] = key.length;
    bytes[at + 1] = (items.fetched(slot) ? FETCHED : 0) | (items.stale(slot) ? STALE : 0) |
      (items.tokenSent(slot) ? TOKEN_SENT : 0) | (items.binaryKey(slot) ? BINARY_KEY : 0);
    view.setUint32(at + 2, items.flags(slot), true);
    view.setUint32(at + 6, value.length, true);
    view.setFloat64(at + 10, exptime === 0 ? 0 : clock.started + exptime, true);
    view.setFloat64(at + 18, clock.started + items.lastAccess(slot), true);
    view.setFloat64(at + 26, items.casUnique(slot), true);
    at += RECORD_BYTES;
    bytes.set(key, at);
    bytes.set(value, at + key.length);
    at += key.length + value.length;
  }
  bytes.set(sha256(bytes.subarray(0, at)), at);
  const temporary = `${path}.${Deno.pid}.tmp`;
  Deno.writeFileSync(temporary, bytes, { mode: 0o600 });
  Deno.renameSync(temporary, path);
  return slots.length;
}

/**
 * Reads `path` into an empty store and removes it. A missing file, one
 * written under other settings, or one that fails its checksum leaves the
 * store empty.
 *
 * @returns memcached's `[restart]` line saying what happened.
 * @throws {Deno.errors.PermissionDenied} When the file exists but cannot be read or removed.
 */
export function loadWarmRestart(path: string, store: Store, settings: WarmRestartSettings): string {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return "[restart] no metadata save file, starting with a clean cache";
    }
    throw error;
  }
  // Gone before anything is served: a crash from here on must not bring these items back.
  Deno.removeSync(path);
  const refusal = validate(bytes, settings);
  if (refusal !== undefined) return `[restart] ${refusal}, starting with a clean cache`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const clock = store.clock;
  const now = clock.now();
  const count = view.getUint32(48, true);
  let restored = 0;
  let expired = 0;
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const klen = bytes[at];
    const marks = bytes[at + 1];
    const vlen = view.getUint32(at + 6, true);
    const expiresAt = view.getFloat64(at + 10, true);
    const keyAt = at + RECORD_BYTES;
    const exptime = expiresAt === 0 ? 0 : expiresAt - clock.started;
    if (exptime !== 0 && exptime <= now) {
      expired++;
    } else {
      const stored = store.restart.restore(
        bytes.subarray(keyAt, keyAt + klen),
        bytes.subarray(keyAt + klen, keyAt + klen + vlen),
        {
          flags: view.getUint32(at + 2, true),
          exptime,
          lastAccess: view.getFloat64(at + 18, true) - clock.started,
          cas: view.getFloat64(at + 26, true),
          fetched: (marks & FETCHED) !== 0,
          stale: (marks & STALE) !== 0,
          tokenSent: (marks & TOKEN_SENT) !== 0,
          binaryKey: (marks & BINARY_KEY) !== 0,
        },
      );
      if (stored) restored++;
    }
    at = keyAt + klen + vlen;
  }
  store.restart.continueCasAfter(view.getFloat64(40, true));
  const lost = count - restored - expired;
  return `[restart] restored ${restored} items (${expired} expired while stopped${
    lost === 0 ? "" : `, ${lost} without memory`
  })`;
}

/** Why the file must not be loaded, or undefined when it may. */
function validate(bytes: Uint8Array, settings: WarmRestartSettings): string | undefined {
  if (bytes.length < HEADER_BYTES + DIGEST_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    return "not a memory file";
  }
  const body = bytes.length - DIGEST_BYTES;
  const digest = sha256(bytes.subarray(0, body));
  if (digest.some((b, i) => bytes[body + i] !== b)) return "failed to validate the checksum";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const saved: [string, number, number][] = [
    ["version", view.getUint32(8, true), FORMAT_VERSION],
    ["use_cas", view.getUint32(12, true), settings.cas ? 1 : 0],
    ["maxbytes", view.getFloat64(16, true), settings.memoryLimit],
    ["item_size_max", view.getFloat64(24, true), settings.maxItemSize],
  ];
  for (const [name, old, current] of saved) {
    if (old !== current) {
      return `restart incompatible due to setting for [${name}] [old value: ${old}]`;
    }
  }
  return undefined;
}
