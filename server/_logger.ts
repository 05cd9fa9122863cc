/**
 * memcached's logger (logger.c) as `watch` shows it: connections that asked
 * for a kind of event (fetchers, mutations, evictions, connevents) get one
 * line per event, in logger.c's words, until they hang up. Each watcher's
 * unsent lines are bounded, as memcached's buffer per watcher is: a line
 * that does not fit is dropped and counted, and the next line that fits is
 * preceded by `skipped=<n>`. With no watcher, an event costs the check of
 * one boolean.
 *
 * @module
 */

import type { ClientStream, GetStatus, ItemEvents } from "./_types.ts";
import { uriEncode } from "./_uri_encode.ts";

/** The kinds of event a watcher asks for, as logger.h's LOG_ bits. */
export const LOG = Object.freeze({
  SYSEVENTS: 1 << 1,
  FETCHERS: 1 << 2,
  MUTATIONS: 1 << 3,
  CONNEVENTS: 1 << 5,
  EVICTIONS: 1 << 6,
  RAWCMDS: 1 << 9,
  PROXYREQS: 1 << 10,
  PROXYEVENTS: 1 << 11,
  PROXYUSER: 1 << 12,
});

const WORDS: Record<string, number> = {
  rawcmds: LOG.RAWCMDS,
  evictions: LOG.EVICTIONS,
  fetchers: LOG.FETCHERS,
  mutations: LOG.MUTATIONS,
  sysevents: LOG.SYSEVENTS,
  connevents: LOG.CONNEVENTS,
  proxyreqs: LOG.PROXYREQS,
  proxyevents: LOG.PROXYEVENTS,
  proxyuser: LOG.PROXYUSER,
};

/** memcached's WATCHER_LIMIT. */
export const WATCHER_LIMIT = 20;
/** memcached asks for this much room beyond a line before queueing it, for a skip notice. */
const SKIP_ROOM = 128;

const ENCODER = new TextEncoder();
const GET_STATUS = ["not_found", "found", "flushed", "expired"];

/** What a storage command came to, as memcached names it in `item_store` lines. */
export type StoreStatus =
  | "not_stored"
  | "stored"
  | "exists"
  | "not_found"
  | "too_large"
  | "no_memory";

/**
 * The event kinds that `watch <words>` asks for: fetchers alone when no
 * word is given, undefined when a word is not memcached's.
 */
export function watchFlags(words: string[]): number | undefined {
  if (words.length === 0) return LOG.FETCHERS;
  let flags = 0;
  for (const word of words) {
    const flag = WORDS[word];
    if (flag === undefined) return undefined;
    flags |= flag;
  }
  return flags;
}

/** The remote end of a connection as conn events name it: `rip=... rport=... transport=...`. */
function endpoint(remote: string): string {
  const tcp = /^tcp:(.*):(\d+)$/.exec(remote);
  if (tcp === null) return "rip=unix rport=0 transport=local";
  return `rip=${tcp[1]} rport=${tcp[2]} transport=tcp`;
}

/** One watching connection: its kinds of event, and its lines not yet written. */
class Watcher {
  readonly flags: number;
  #stream: ClientStream;
  #logger: Logger;
  #queue: string[] = ["OK\r\n"];
  #queued = 4;
  #skipped = 0;
  #writing = false;
  #closed = false;

  constructor(stream: ClientStream, flags: number, logger: Logger) {
    this.#stream = stream;
    this.flags = flags;
    this.#logger = logger;
    this.#drain();
  }

  /** Queues a line, or counts it skipped when the watcher's buffer has no room. */
  push(line: string): void {
    if (this.#closed) return;
    if (this.#queued + line.length + SKIP_ROOM > this.#logger.bufferSize) {
      this.#skipped++;
      this.#logger.skipped++;
      return;
    }
    if (this.#skipped > 0) {
      this.#enqueue(`skipped=${this.#skipped}\n`);
      this.#skipped = 0;
    }
    this.#enqueue(line);
    this.#logger.sent++;
    this.#drain();
  }

  /** Stops queueing; lines still queued are dropped. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #enqueue(line: string): void {
    this.#queue.push(line);
    this.#queued += line.length;
  }

  /** Writes queued lines until none are left; a failed write ends the watcher. */
  #drain(): void {
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    this.#write().catch(() => {
      // The watcher hung up or its socket broke: memcached closes the watcher then.
      this.#logger.remove(this);
      this.#stream.close();
    });
  }

  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const text = this.#queue.join("");
        this.#queue = [];
        // Every line is ASCII: keys are uriencoded.
        const bytes = ENCODER.encode(text);
        for (let sent = 0; sent < bytes.length;) {
          sent += await this.#stream.write(bytes.subarray(sent));
        }
        this.#queued -= bytes.length;
      }
    } finally {
      // In the same turn as the last check of the queue, so a line pushed after it starts a new drain.
      this.#writing = false;
    }
  }
}

/** The server's log of events, and the connections watching it. */
export class Logger implements ItemEvents {
  fetchers = false;
  evictions = false;
  /** Whether anyone watches storage commands' results. */
  mutations = false;
  /** Whether anyone watches connections open and close. */
  connevents = false;
  /** The connection whose request runs now, named in `cfd=`. */
  connection = 0;
  /** Lines queued to watchers, and lines dropped for want of room (`log_watcher_sent`, `log_watcher_skipped`). */
  sent = 0;
  skipped = 0;
  /** The unsent bytes one watcher may hold (`watcher_logbuf_size`). */
  readonly bufferSize: number;
  #watchers: Watcher[] = [];
  #gid = 0;

  /**
   * A log with no watchers yet.
   *
   * @param bufferSize The unsent bytes one watcher may hold (`watcher_logbuf_size`).
   */
  constructor(bufferSize = 256 * 1024) {
    this.bufferSize = bufferSize;
  }

  /** How many connections watch. */
  get watchers(): number {
    return this.#watchers.length;
  }

  /** Makes `stream` a watcher of the kinds in `flags`; it is sent `OK` and then its lines. */
  watch(stream: ClientStream, flags: number): Watcher {
    const watcher = new Watcher(stream, flags, this);
    this.#watchers.push(watcher);
    this.#update();
    return watcher;
  }

  /** Ends a watcher; its connection has hung up. */
  remove(watcher: Watcher): void {
    watcher.close();
    this.#watchers = this.#watchers.filter((w) => w !== watcher);
    this.#update();
  }

  itemGet(status: GetStatus, key: Uint8Array, valueLength: number, cls: number): void {
    this.#log(
      LOG.FETCHERS,
      `type=item_get key=${uriEncode(key)} status=${GET_STATUS[status]} clsid=${cls} ` +
        `cfd=${this.connection} size=${valueLength}`,
    );
  }

  /**
   * A storage command's result.
   *
   * @param ttl Seconds to the item's exptime, 0 for none; as memcached, unsigned 32-bit.
   */
  itemStore(
    status: StoreStatus,
    command: string,
    key: Uint8Array,
    valueLength: number,
    ttl: number,
    cls: number,
  ): void {
    this.#log(
      LOG.MUTATIONS,
      `type=item_store key=${uriEncode(key)} status=${status} cmd=${command} ttl=${ttl >>> 0} ` +
        `clsid=${cls} cfd=${this.connection} size=${valueLength}`,
    );
  }

  eviction(
    key: Uint8Array,
    fetched: boolean,
    ttl: number,
    idle: number,
    cls: number,
    valueLength: number,
  ): void {
    this.#log(
      LOG.EVICTIONS,
      `type=eviction key=${uriEncode(key)} fetch=${fetched ? "yes" : "no"} ttl=${ttl} ` +
        `la=${idle} clsid=${cls} size=${valueLength}`,
    );
  }

  /** A connection from `remote` (`tcp:host:port`, else a unix socket) opened. */
  connNew(remote: string, id: number): void {
    this.#log(LOG.CONNEVENTS, `type=conn_new ${endpoint(remote)} cfd=${id}`);
  }

  /** A connection closed: the client left or asked to (`normal`), or it failed (`error`). */
  connClose(remote: string, id: number, reason: "normal" | "error"): void {
    this.#log(LOG.CONNEVENTS, `type=conn_close ${endpoint(remote)} reason=${reason} cfd=${id}`);
  }

  /** Entries logged for at least one watcher (`log_worker_written`). */
  get written(): number {
    return this.#gid;
  }

  #log(flag: number, body: string): void {
    const ms = performance.timeOrigin + performance.now();
    const seconds = Math.floor(ms / 1000);
    const micros = Math.floor((ms - seconds * 1000) * 1000);
    // memcached prints the microseconds unpadded.
    const line = `ts=${seconds}.${micros} gid=${++this.#gid} ${body}\n`;
    for (const watcher of this.#watchers) {
      if ((watcher.flags & flag) !== 0) watcher.push(line);
    }
  }

  #update(): void {
    let flags = 0;
    for (const watcher of this.#watchers) flags |= watcher.flags;
    this.fetchers = (flags & LOG.FETCHERS) !== 0;
    this.evictions = (flags & LOG.EVICTIONS) !== 0;
    this.mutations = (flags & LOG.MUTATIONS) !== 0;
    this.connevents = (flags & LOG.CONNEVENTS) !== 0;
  }
}
