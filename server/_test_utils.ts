/**
 * What the store's tests share: a store on a manual clock, reading a value
 * back, and memcached's item size.
 *
 * @module
 */

import { DEFAULT_TUNABLES } from "./_settings.ts";
import { ManualClock } from "./clock.ts";
import { Store } from "./_store.ts";
import type { Settings, StoreOptions } from "./_types.ts";

const encoder = new TextEncoder();

/** A string's UTF-8 bytes. */
export const bytes = (s: string): Uint8Array => encoder.encode(s);

/** Bytes as a string, one char per byte. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Server settings for handler tests: memcached's defaults, one thread. */
export const SETTINGS: Settings = {
  connectionLayer: "deno",
  port: 0,
  hostname: "127.0.0.1",
  memoryLimit: 64 * 1024 * 1024,
  maxItemSize: 1024 * 1024,
  maxConnections: 10,
  evictions: true,
  cas: true,
  enableShutdown: false,
  verbosity: 0,
  threads: 1,
  version: "1.6.18",
  socketPath: undefined,
  socketMask: 0o700,
  requestsPerEvent: 20,
  growthFactor: 1.25,
  chunkSize: 48,
  prefixDelimiter: ":",
  detailEnabled: false,
  backlog: 1024,
  udpPort: 0,
  flushEnabled: true,
  idleTimeout: 0,
  readBufMemLimit: 0,
  ...DEFAULT_TUNABLES,
};

/** A store on a manual clock started at Unix time 1,700,000,000. */
export function setup(options: StoreOptions = {}): { store: Store; clock: ManualClock } {
  const clock = new ManualClock({ started: 1_700_000_000 });
  return { store: new Store({ clock, ...options }), clock };
}

/** The value under `key` as a string, or undefined on a miss. */
export function read(store: Store, key: string): string | undefined {
  const slot = store.get(bytes(key));
  return slot < 0 ? undefined : latin1(store.items.value(slot));
}

/** memcached's item size for `stats bytes`. */
export function memcachedSize(key: string, flags: number, value: number, cas = true): number {
  return 48 + (cas ? 8 : 0) + key.length + 1 + (flags !== 0 ? 4 : 0) + value + 2;
}

/** A store of 1 KiB pages: class 1 chunks are 96 bytes, ten to a page. */
export function smallStore(
  pages: number,
  options: StoreOptions = {},
): { store: Store; clock: ManualClock } {
  return setup({ pageSize: 1024, maxBytes: pages * 1024, maxItemSize: 1024, ...options });
}
