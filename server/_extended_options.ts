/**
 * memcached's `-o` (`--extended`) list: comma-separated `name` or
 * `name=value` settings, read as its getsubopt loop reads them (extstore's
 * `ext_*` ones included, as Debian builds it), with its messages and exit
 * codes.
 *
 * @module
 */

import type { ServeTlsOptions, Settings } from "./_types.ts";
import { atof, atoi, safeStrtod, safeStrtol, safeStrtoul } from "./_c_numbers.ts";

/** The `-o` settings read so far. */
export interface ExtendedOptions {
  /** TLS, as `-Z` will use it. */
  tls: Partial<ServeTlsOptions>;
  /** Settings for `serve` and `stats settings`. */
  settings: Partial<Settings>;
  /** Whether the LRU maintainer would run (memcached's default; `no_lru_maintainer` stops it). */
  lruMaintainer: boolean;
  /** Whether `slab_chunk_max` was given (or `no_chunked_items`), so `-I` leaves it be. */
  slabChunkChanged: boolean;
  /** `slab_sizes` as given, checked once the command line is read. */
  slabSizes?: string;
  /** Whether an `ext_path` was given. */
  extPath: boolean;
}

/** A fresh set, with memcached's defaults where later checks read them. */
export function newExtendedOptions(): ExtendedOptions {
  return { tls: {}, settings: {}, lruMaintainer: true, slabChunkChanged: false, extPath: false };
}

/** Why the command line stops: what to print where, and the exit code. */
export interface Refusal {
  code: number;
  stdout?: string;
  stderr?: string;
}

const fail = (stderr: string, code = 1): Refusal => ({ code, stderr });

/** The `ext_*` options that take an unsigned number, by their `stats settings` field and multiplier. */
const EXT_UNSIGNED: Record<string, [keyof Settings | undefined, number]> = {
  ext_page_size: [undefined, 1024 * 1024],
  ext_wbuf_size: ["extWbufSize", 1024 * 1024],
  ext_threads: [undefined, 1],
  ext_io_depth: [undefined, 1],
  ext_item_size: ["extItemSize", 1],
  ext_item_age: ["extItemAge", 1],
  ext_low_ttl: ["extLowTtl", 1],
  ext_recache_rate: ["extRecacheRate", 1],
  ext_compact_under: ["extCompactUnder", 1],
  ext_drop_under: ["extDropUnder", 1],
  ext_max_sleep: ["extMaxSleep", 1],
};

/** extstore's reading of an `-o` item memcached's own table does not know. */
function readStorageOption(
  name: string,
  value: string | undefined,
  item: string,
  into: ExtendedOptions,
): Refusal | undefined {
  const s = into.settings as Record<string, unknown>;
  const unsigned = EXT_UNSIGNED[name];
  if (unsigned !== undefined) {
    if (name === "ext_page_size" && into.extPath) {
      return fail("Must specify ext_page_size before any ext_path arguments\n");
    }
    if (value === undefined) return fail(`Missing ${name} argument\n`);
    const parsed = safeStrtoul(value);
    if (parsed === undefined) return fail(`could not parse argument to ${name}\n`);
    const [field, unit] = unsigned;
    if (field !== undefined) s[field] = (parsed * unit) % 2 ** 32;
    return undefined;
  }
  if (name === "ext_max_frag" || name === "slab_automove_freeratio") {
    if (value === undefined) return fail(`Missing ${name} argument\n`);
    const parsed = safeStrtod(value);
    if (parsed === undefined) return fail(`could not parse argument to ${name}\n`);
    s[name === "ext_max_frag" ? "extMaxFrag" : "slabAutomoveFreeratio"] = parsed;
    return undefined;
  }
  if (name === "ext_drop_unread") {
    s.extDropUnread = true;
    return undefined;
  }
  if (name === "ext_path") {
    if (value === undefined) {
      return fail("missing argument to ext_path, ie: ext_path=/d/file:5G\n");
    }
    const size = value.split(":")[1];
    if (size === undefined || size === "") {
      return fail(
        "must supply size to ext_path, ie: ext_path=/f/e:64m (M|G|T|P supported)\n" +
          "failed to parse ext_path argument\n",
      );
    }
    // extstore keeps items on a file or device: this server holds every item in memory.
    return fail("-o ext_path: external storage (extstore) is not supported\n", 64);
  }
  // getsubopt hands back the whole item when it knows no such name.
  return fail(`Illegal suboption "${item}"\n`);
}

/** A setting whose value is a number memcached checks against a range. */
function ranged(
  value: string,
  read: (text: string) => number,
  ok: (n: number) => boolean,
  message: (n: number) => string,
): number | Refusal {
  const n = read(value);
  return ok(n) ? n : fail(message(n));
}

/** Reads one item of the list; undefined when it was taken. */
function readOption(item: string, into: ExtendedOptions): Refusal | undefined {
  const tls = into.tls;
  const s = into.settings;
  const equals = item.indexOf("=");
  const name = equals < 0 ? item : item.slice(0, equals);
  const value = equals < 0 ? undefined : item.slice(equals + 1);
  const missing = (what = `${name} argument`) => fail(`Missing ${what}\n`);
  const unparsable = () => fail(`could not parse argument to ${name}\n`);
  /** Stores a checked number, or passes the refusal on. */
  const set = <K extends keyof Settings>(key: K, n: number | Refusal): Refusal | undefined => {
    if (typeof n !== "number") return n;
    (s as Record<string, unknown>)[key] = n;
    return undefined;
  };
  switch (name) {
    case "maxconns_fast":
      s.maxconnsFast = true;
      return undefined;
    case "no_maxconns_fast":
      s.maxconnsFast = false;
      return undefined;
    case "hashpower":
      if (value === undefined) return missing("numeric argument for hashpower");
      return set(
        "hashpowerInit",
        ranged(
          value,
          atoi,
          (n) => n >= 12 && n <= 32,
          (n) =>
            n < 12
              ? `Initial hashtable multiplier of ${n} is too low\n`
              : `Initial hashtable multiplier of ${n} is too high\n` +
                'Choose a value based on "STAT hash_power_level" from a running instance\n',
        ),
      );
    case "no_hashexpand":
    case "modern":
    case "inline_ascii_resp":
    case "no_inline_ascii_resp":
    case "drop_privileges":
    case "no_drop_privileges":
      // Hash growth is the index's own; the rest change nothing in memcached 1.6.18 either.
      return undefined;
    case "resp_obj_mem_limit":
      return {
        code: 0,
        stderr: "DEPRECATED: resp_obj_mem_limit no longer used. See read_buf_mem_limit,\n",
      };
    case "sock_cookie_id":
      // memcached marks its sockets with SO_MARK for firewalls; Deno's sockets have no such option.
      return undefined;
    case "slab_reassign":
      s.slabReassign = true;
      return undefined;
    case "no_slab_reassign":
      s.slabReassign = false;
      return undefined;
    case "slab_automove":
      if (value === undefined) return set("slabAutomove", 1);
      return set(
        "slabAutomove",
        ranged(
          value,
          atoi,
          (n) => n >= 0 && n <= 2,
          () => "slab_automove must be between 0 and 2\n",
        ),
      );
    case "no_slab_automove":
      s.slabAutomove = 0;
      return undefined;
    case "slab_automove_ratio":
      if (value === undefined) return missing();
      return set(
        "slabAutomoveRatio",
        ranged(
          value,
          atof,
          (n) => n > 0 && n <= 1,
          () => "slab_automove_ratio must be > 0 and < 1\n",
        ),
      );
    case "slab_automove_window":
      if (value === undefined) return missing();
      return set(
        "slabAutomoveWindow",
        ranged(value, atoi, (n) => n >= 3, () => "slab_automove_window must be > 2\n"),
      );
    case "tail_repair_time":
      if (value === undefined) return missing("numeric argument for tail_repair_time");
      return set(
        "tailRepairTime",
        ranged(
          value,
          atoi,
          (n) => n >= 10,
          () => "Cannot set tail_repair_time to less than 10 seconds\n",
        ),
      );
    case "hash_algorithm":
      if (value === undefined) return missing();
      if (value !== "jenkins" && value !== "murmur3" && value !== "xxh3") {
        return fail("Unknown hash_algorithm option (jenkins, murmur3, xxh3)\n");
      }
      s.hashAlgorithm = value;
      return undefined;
    case "lru_crawler":
      s.lruCrawler = true;
      return undefined;
    case "no_lru_crawler":
      s.lruCrawler = false;
      return undefined;
    case "lru_crawler_sleep":
      if (value === undefined) return missing("lru_crawler_sleep value");
      return set(
        "lruCrawlerSleep",
        ranged(
          value,
          atoi,
          (n) => n >= 0 && n <= 1_000_000,
          () => "LRU crawler sleep must be between 0 and 1 second\n",
        ),
      );
    case "lru_crawler_tocrawl": {
      if (value === undefined) return missing("lru_crawler_tocrawl value");
      const n = safeStrtoul(value);
      if (n === undefined) return fail("lru_crawler_tocrawl takes a numeric 32bit value\n");
      s.lruCrawlerTocrawl = n;
      return undefined;
    }
    case "lru_maintainer":
      into.lruMaintainer = true;
      return undefined;
    case "no_lru_maintainer":
      into.lruMaintainer = false;
      return undefined;
    case "hot_lru_pct":
    case "warm_lru_pct":
      if (value === undefined) return missing();
      return set(
        name === "hot_lru_pct" ? "hotLruPct" : "warmLruPct",
        ranged(value, atoi, (n) => n >= 1 && n < 80, () => `${name} must be > 1 and < 80\n`),
      );
    case "hot_max_factor":
    case "warm_max_factor":
      if (value === undefined) return missing();
      return set(
        name === "hot_max_factor" ? "hotMaxFactor" : "warmMaxFactor",
        ranged(value, atof, (n) => n > 0, () => `${name} must be > 0\n`),
      );
    case "temporary_ttl":
      if (value === undefined) return missing();
      s.tempLru = true;
      s.temporaryTtl = atoi(value);
      return undefined;
    case "idle_timeout":
      if (value === undefined) return missing("numeric argument for idle_timeout");
      s.idleTimeout = atoi(value);
      return undefined;
    case "watcher_logbuf_size":
    case "worker_logbuf_size":
    case "read_buf_mem_limit": {
      if (value === undefined) return missing();
      const n = safeStrtoul(value);
      if (n === undefined) return unparsable();
      const key = name === "read_buf_mem_limit"
        ? "readBufMemLimit"
        : name === "watcher_logbuf_size"
        ? "watcherLogbufSize"
        : "workerLogbufSize";
      const unit = name === "read_buf_mem_limit" ? 1024 * 1024 : 1024;
      s[key] = (n * unit) % 2 ** 32;
      // memcached 1.6.18 falls through from worker_logbuf_size into slab_sizes.
      if (name === "worker_logbuf_size") into.slabSizes = value;
      return undefined;
    }
    case "slab_sizes":
      // memcached copies a missing value with strdup(NULL) and crashes; refusing is kinder.
      if (value === undefined) return missing();
      into.slabSizes = value;
      return undefined;
    case "slab_chunk_max": {
      // memcached 1.6.18 prints these and carries on (crashing without a value); this stops instead.
      if (value === undefined) return missing();
      const n = safeStrtol(value);
      if (n === undefined) return unparsable();
      s.slabChunkMax = n;
      into.slabChunkChanged = true;
      return undefined;
    }
    case "no_chunked_items":
      s.slabChunkMax = 1024 * 1024;
      return undefined;
    case "track_sizes":
      s.trackSizes = true;
      return undefined;
    case "no_modern":
      if (!into.slabChunkChanged) s.slabChunkMax = 1024 * 1024;
      s.slabReassign = false;
      s.slabAutomove = 0;
      s.maxconnsFast = false;
      s.hashAlgorithm = "jenkins";
      s.lruCrawler = false;
      into.lruMaintainer = false;
      return undefined;
    case "ssl_chain_cert":
      if (value === undefined) return missing();
      tls.chainCertFile = value;
      return undefined;
    case "ssl_key":
      if (value === undefined) return missing();
      tls.keyFile = value;
      return undefined;
    case "ssl_ca_cert":
      if (value === undefined) return missing();
      tls.caCertFile = value;
      return undefined;
    case "ssl_verify_mode": {
      if (value === undefined) return missing();
      const mode = safeStrtol(value);
      if (mode === undefined) return unparsable();
      if (mode < 0 || mode > 3) {
        return fail("Invalid ssl_verify_mode. Use help to see valid options.\n");
      }
      tls.verifyMode = mode as 0 | 1 | 2 | 3;
      return undefined;
    }
    case "ssl_keyformat": {
      if (value === undefined) return missing();
      const format = safeStrtol(value);
      if (format === undefined) return unparsable();
      if (format !== 1) {
        return fail(`ssl_keyformat ${format} is not read here: keys are PEM files (1)\n`, 64);
      }
      return undefined;
    }
    case "ssl_ciphers":
      if (value === undefined) return missing();
      return fail(
        `Error setting the provided cipher(s): ${value}\n` +
          "(OpenSSL cipher lists are not read here: Deno's TLS chooses among its own suites)\n",
        64,
      );
    case "ssl_wbuf_size": {
      if (value === undefined) return missing();
      const kilobytes = safeStrtoul(value);
      if (kilobytes === undefined) return unparsable();
      tls.writeBufferSize = kilobytes * 1024;
      return undefined;
    }
    case "ssl_session_cache":
      tls.sessionCache = true;
      return undefined;
    case "ssl_kernel_tls":
      return fail("Kernel TLS offload is not available\n", 64);
    case "ssl_min_version": {
      if (value === undefined) return missing();
      const version = safeStrtol(value);
      if (version === undefined) return unparsable();
      if (version < 0 || version > 3) {
        return fail("Invalid ssl_min_version. Use help to see valid options.\n");
      }
      if (version < 2) {
        return fail(
          `ssl_min_version ${version} (tlsv1.${version}) is not served here: ` +
            "Deno's TLS speaks TLS 1.2 and 1.3 only\n",
          64,
        );
      }
      tls.minVersion = version === 3 ? "TLSv1.3" : "TLSv1.2";
      return undefined;
    }
    case "connection_layer":
      // This server's own: which layer its plain sockets run on.
      if (value !== "epoll" && value !== "deno") {
        return fail("connection_layer must be epoll or deno\n", 64);
      }
      s.connectionLayer = value;
      return undefined;
    default:
      return readStorageOption(name, value, item, into);
  }
}

/**
 * Reads `-o` lists into `into` (several `-o` flags add up, as in memcached).
 *
 * @returns undefined when every setting was taken, else why the command line stops (a warning has code 0).
 */
export function readExtendedOptions(list: string, into: ExtendedOptions): Refusal | undefined {
  const items = list.split(",");
  // getsubopt stops at the end of the string, so only a trailing comma goes unread.
  if (items.at(-1) === "") items.pop();
  let warning: Refusal | undefined;
  for (const item of items) {
    const refusal = readOption(item, into);
    if (refusal === undefined) continue;
    if (refusal.code !== 0) return refusal;
    warning = { code: 0, stderr: (warning?.stderr ?? "") + refusal.stderr };
  }
  return warning;
}
