/**
 * memcached's `-o` (`--extended`) list: comma-separated `name` or
 * `name=value` settings, read as its getsubopt loop reads them, with its
 * messages and exit codes. The TLS ones are read here; memcached's others
 * are refused by name until this server has them.
 *
 * @module
 */

import type { ServeTlsOptions } from "./_types.ts";

/** The `-o` settings read so far: TLS, as `-Z` will use it. */
export interface ExtendedOptions {
  tls: Partial<ServeTlsOptions>;
}

/** Why the command line stops: what to print where, and the exit code. */
export interface Refusal {
  code: number;
  stdout?: string;
  stderr?: string;
}

/** memcached 1.6.18's `-o` names, TLS ones included (Debian builds it with TLS). */
const MEMCACHED_SUBOPTIONS = new Set([
  "maxconns_fast",
  "hashpower",
  "no_hashexpand",
  "slab_reassign",
  "slab_automove",
  "slab_automove_ratio",
  "slab_automove_window",
  "tail_repair_time",
  "hash_algorithm",
  "lru_crawler",
  "lru_crawler_sleep",
  "lru_crawler_tocrawl",
  "lru_maintainer",
  "hot_lru_pct",
  "warm_lru_pct",
  "hot_max_factor",
  "warm_max_factor",
  "temporary_ttl",
  "idle_timeout",
  "watcher_logbuf_size",
  "worker_logbuf_size",
  "slab_sizes",
  "slab_chunk_max",
  "track_sizes",
  "no_inline_ascii_resp",
  "modern",
  "no_modern",
  "no_chunked_items",
  "no_slab_reassign",
  "no_slab_automove",
  "no_maxconns_fast",
  "inline_ascii_resp",
  "no_lru_crawler",
  "no_lru_maintainer",
  "no_drop_privileges",
  "drop_privileges",
  "resp_obj_mem_limit",
  "read_buf_mem_limit",
]);

/** C's strtol on a whole token, as memcached's safe_strtol takes it; undefined when it refuses. */
function safeStrtol(text: string): number | undefined {
  const match = /^[\t\n\v\f\r ]*([+-]?\d+)(?:[\t\n\v\f\r ].*)?$/s.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return value >= -0x8000_0000 && value <= 0x7fff_ffff ? value : undefined;
}

/**
 * Reads `-o` lists into `into` (several `-o` flags add up, as in memcached).
 *
 * @returns undefined when every setting was taken, else why the command line stops.
 */
export function readExtendedOptions(list: string, into: ExtendedOptions): Refusal | undefined {
  const tls = into.tls;
  for (const item of list.split(",")) {
    if (item === "") continue;
    const equals = item.indexOf("=");
    const name = equals < 0 ? item : item.slice(0, equals);
    const value = equals < 0 ? undefined : item.slice(equals + 1);
    const missing = (): Refusal => ({ code: 1, stderr: `Missing ${name} argument\n` });
    const unparsable = (): Refusal => ({
      code: 1,
      stderr: `could not parse argument to ${name}\n`,
    });
    switch (name) {
      case "ssl_chain_cert":
        if (value === undefined) return missing();
        tls.chainCertFile = value;
        break;
      case "ssl_key":
        if (value === undefined) return missing();
        tls.keyFile = value;
        break;
      case "ssl_ca_cert":
        if (value === undefined) return missing();
        tls.caCertFile = value;
        break;
      case "ssl_verify_mode": {
        if (value === undefined) return missing();
        const mode = safeStrtol(value);
        if (mode === undefined) return unparsable();
        if (mode < 0 || mode > 3) {
          return { code: 1, stderr: "Invalid ssl_verify_mode. Use help to see valid options.\n" };
        }
        tls.verifyMode = mode as 0 | 1 | 2 | 3;
        break;
      }
      case "ssl_keyformat": {
        if (value === undefined) return missing();
        const format = safeStrtol(value);
        if (format === undefined) return unparsable();
        if (format !== 1) {
          return {
            code: 64,
            stderr: `ssl_keyformat ${format} is not read here: keys are PEM files (1)\n`,
          };
        }
        break;
      }
      case "ssl_ciphers":
        if (value === undefined) return missing();
        return {
          code: 64,
          stderr: `Error setting the provided cipher(s): ${value}\n` +
            "(OpenSSL cipher lists are not read here: Deno's TLS chooses among its own suites)\n",
        };
      case "ssl_wbuf_size": {
        if (value === undefined) return missing();
        const kilobytes = safeStrtol(value);
        if (kilobytes === undefined || kilobytes < 0) return unparsable();
        tls.writeBufferSize = kilobytes * 1024;
        break;
      }
      case "ssl_session_cache":
        tls.sessionCache = true;
        break;
      case "ssl_kernel_tls":
        return { code: 64, stderr: "Kernel TLS offload is not available\n" };
      case "ssl_min_version": {
        if (value === undefined) return missing();
        const version = safeStrtol(value);
        if (version === undefined) return unparsable();
        if (version < 0 || version > 3) {
          return { code: 1, stderr: "Invalid ssl_min_version. Use help to see valid options.\n" };
        }
        if (version < 2) {
          return {
            code: 64,
            stderr: `ssl_min_version ${version} (tlsv1.${version}) is not served here: ` +
              "Deno's TLS speaks TLS 1.2 and 1.3 only\n",
          };
        }
        tls.minVersion = version === 3 ? "TLSv1.3" : "TLSv1.2";
        break;
      }
      default:
        if (MEMCACHED_SUBOPTIONS.has(name)) {
          return { code: 64, stderr: `-o ${name}: this server does not support it yet\n` };
        }
        return { code: 1, stderr: `Illegal suboption "${item}"\n` };
    }
  }
  return undefined;
}
