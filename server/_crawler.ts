/**
 * memcached's LRU crawler (crawler.c) as the `lru_crawler` command drives
 * it: `metadump` lists every live item's metadata, the key dump that
 * memcached-tool and dashboards browse keys with; `crawl` reclaims the
 * expired and flushed items of the classes named; `enable`, `disable`,
 * `sleep` and `tocrawl` tune it. memcached's crawler runs in a thread and
 * may answer BUSY while it works; ours runs each request to its end at
 * once, so it never does.
 *
 * @module
 */

import { parseU32 } from "../protocol/_numbers.ts";
import type { WriteBuffer } from "../protocol/write_buffer.ts";
import type { Store } from "./_store.ts";
import type { Settings } from "./_types.ts";
import { uriEncode } from "./_uri_encode.ts";

/** memcached's MAX_NUMBER_OF_SLAB_CLASSES: class ids a crawl may name run from 1 below it. */
const MAX_CLASSES = 64;

/** A metadump writes its lines in batches of about this many bytes, each sent before the next. */
const DUMP_BATCH_BYTES = 256 * 1024;

/** safe_strtoul on a Latin-1 word: its 32-bit value, or -1 when memcached rejects it. */
function strtoul(word: string): number {
  const bytes = Uint8Array.from(word, (c) => c.charCodeAt(0));
  return parseU32(bytes, 0, bytes.length);
}

/**
 * The classes a crawl names, as memcached's lru_crawler_crawl reads them:
 * `all`, or ids from 1 to 63 joined by commas. `hash` (metadump only) walks
 * every class too, in another order. Undefined for a bad id.
 */
function classList(spec: string, largest: number): number[] | undefined {
  const every = Array.from({ length: largest }, (_, i) => i + 1);
  if (spec === "all" || spec === "hash") return every;
  const ids = new Set<number>();
  // strtok_r passes over empty fields: "1,,2" is 1 and 2.
  for (const field of spec.split(",").filter((f) => f.length > 0)) {
    const id = strtoul(field);
    if (id < 1 || id >= MAX_CLASSES) return undefined;
    // Classes past the largest exist in memcached too, empty.
    if (id <= largest) ids.add(id);
  }
  return every.filter((id) => ids.has(id));
}

/** The `lru_crawler` command, run against the store. */
export class LruCrawler {
  #store: Store;
  #settings: Settings;
  /** The rest of a metadump too large for one batch. */
  #dump: ((out: WriteBuffer) => boolean) | undefined;

  /** A crawler over `store`, tuned by `settings` (`lruCrawler`, `lruCrawlerSleep`, `lruCrawlerTocrawl`). */
  constructor(store: Store, settings: Settings) {
    this.#store = store;
    this.#settings = settings;
  }

  /**
   * Runs `lru_crawler <args>`, writing memcached's reply to `out`.
   *
   * @param pending Whether replies to earlier requests of this read are still unsent.
   * @returns Whether a metadump ran: memcached then serves the rest of the
   * read only once more bytes arrive.
   */
  command(args: string[], out: WriteBuffer, pending: boolean): boolean {
    const settings = this.#settings;
    const [sub, arg] = args;
    if (args.length === 2 && (sub === "crawl" || sub === "metadump")) {
      if (!settings.lruCrawler) reply(out, "CLIENT_ERROR lru crawler disabled");
      else if (sub === "crawl") this.#crawl(arg, out);
      else if (!settings.dumpEnabled) reply(out, "ERROR metadump not allowed");
      else if (pending) reply(out, "ERROR cannot pipeline other commands before metadump");
      else return this.#metadump(arg, out);
      return false;
    }
    this.#tune(args, out);
    return false;
  }

  /** The subcommands that set the crawler's settings. */
  #tune(args: string[], out: WriteBuffer): void {
    const settings = this.#settings;
    const [sub, arg] = args;
    if (args.length === 2) {
      switch (sub) {
        case "tocrawl": {
          const n = strtoul(arg);
          if (n < 0) return reply(out, "CLIENT_ERROR bad command line format");
          settings.lruCrawlerTocrawl = n;
          return reply(out, "OK");
        }
        case "sleep": {
          const n = strtoul(arg);
          if (n < 0) return reply(out, "CLIENT_ERROR bad command line format");
          if (n > 1_000_000) return reply(out, "CLIENT_ERROR sleep must be one second or less");
          settings.lruCrawlerSleep = n;
          return reply(out, "OK");
        }
      }
    } else if (args.length === 1 && sub === "enable") {
      if (settings.lruCrawler) return reply(out, "ERROR failed to start lru crawler thread");
      settings.lruCrawler = true;
      return reply(out, "OK");
    } else if (args.length === 1 && sub === "disable") {
      // memcached stops a stopped crawler without complaint.
      settings.lruCrawler = false;
      return reply(out, "OK");
    }
    reply(out, "ERROR");
  }

  /** Reclaims the dead items of the classes named, each up to `tocrawl` items from its tail. */
  #crawl(spec: string, out: WriteBuffer): void {
    // memcached walks the hash table for metadump alone.
    if (spec === "hash") return reply(out, "ERROR an unknown error happened");
    const store = this.#store;
    const classes = classList(spec, store.crawl.largestClass);
    if (classes === undefined) return reply(out, "BADCLASS invalid class id");
    const limit = this.#settings.lruCrawlerTocrawl;
    for (const cls of classes) store.crawl.reclaimClass(cls, limit);
    reply(out, "OK");
  }

  /**
   * One line per live item of the classes named, as crawler_metadump_eval
   * writes it, then END. The items are listed first (4 bytes each), the
   * lines written a batch at a time: the rest is left in `#dump` for
   * {@linkcode LruCrawler.prototype.takeDump}, as memcached's crawler
   * streams through a fixed buffer.
   */
  #metadump(spec: string, out: WriteBuffer): boolean {
    const store = this.#store;
    const classes = classList(spec, store.crawl.largestClass);
    if (classes === undefined) {
      reply(out, "BADCLASS invalid class id");
      return false;
    }
    // Each item's slot and class as the walk found them.
    let slots = new Int32Array(1024);
    let count = 0;
    for (const cls of classes) {
      store.crawl.walkClass(cls, (slot) => {
        if (count * 2 === slots.length) {
          const grown = new Int32Array(slots.length * 2);
          grown.set(slots);
          slots = grown;
        }
        slots[count * 2] = slot;
        slots[count * 2 + 1] = cls;
        count++;
      });
    }
    const dump = (out: WriteBuffer, from: number): number => {
      const items = store.items;
      const started = store.clock.started;
      let i = from;
      for (; i < count && out.length < DUMP_BATCH_BYTES; i++) {
        const slot = slots[i * 2];
        const cls = slots[i * 2 + 1];
        // An item gone since the walk (or its slot reused) is left out, as the crawler would miss it.
        if (!store.crawl.live(slot, cls)) continue;
        const exptime = items.exptime(slot);
        out.latin1(
          `key=${uriEncode(items.key(slot))} exp=${exptime === 0 ? -1 : exptime + started} ` +
            `la=${items.lastAccess(slot) + started} cas=${items.casUnique(slot)} ` +
            `fetch=${items.fetched(slot) ? "yes" : "no"} cls=${cls} size=${items.itemSize(slot)}\n`,
        );
      }
      if (i === count) out.latin1("END\r\n");
      return i;
    };
    let at = dump(out, 0);
    this.#dump = at === count ? undefined : (out) => {
      at = dump(out, at);
      return at < count;
    };
    return true;
  }

  /**
   * The rest of the last metadump, for the connection to write a batch at a
   * time after what it holds: each call appends the next batch and says
   * whether more remain.
   *
   * @returns The continuation, or undefined when the dump was whole.
   */
  takeDump(): ((out: WriteBuffer) => boolean) | undefined {
    const dump = this.#dump;
    this.#dump = undefined;
    return dump;
  }
}

function reply(out: WriteBuffer, line: string): void {
  out.latin1(`${line}\r\n`);
}
