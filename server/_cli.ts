/**
 * The command line: every flag of memcached 1.6.18's `-h`, read with its
 * syntax, checks, messages and exit codes; what this server cannot do is
 * refused with a line saying so.
 *
 * @module
 */

import type { ServeOptions } from "./server.ts";
import type { ServeTlsOptions } from "./_types.ts";
import { MEMCACHED_VERSION, PACKAGE_VERSION } from "./_version.ts";
import {
  type ExtendedOptions,
  newExtendedOptions,
  readExtendedOptions,
} from "./_extended_options.ts";
import { atof, atoi, safeStrtoul, strtolOctal } from "./_c_numbers.ts";
import { getoptLong, type LongOption } from "./_getopt.ts";

/** What the command line asks for: serve with options, or print and exit. */
export type CliAction =
  | {
    kind: "serve";
    options: ServeOptions;
    pidFile: string | undefined;
    /** With `-d`: the command line to start in the background, without `-d` and marked as the daemon. */
    daemonArgs: string[] | undefined;
    /** Whether this is that background process, which says when it listens. */
    daemonChild: boolean;
    /** What memcached warns about and starts anyway. */
    warnings: string;
    /** Whether `-t` was given, so a value this server cannot honour is told at start. */
    threadsGiven: boolean;
  }
  | { kind: "exit"; code: number; stdout: string; stderr: string };

const HELP = `memcached ${MEMCACHED_VERSION} (@x/memcache ${PACKAGE_VERSION})
-p, --port=<num>          TCP port to listen on (default: 11211)
-U, --udp-port=<num>      UDP port to listen on (default: 0, off)
-s, --unix-socket=<file>  UNIX socket to listen on (disables network support)
-a, --unix-mask=<mask>    access mask for UNIX socket, in octal (default: 700)
-A, --enable-shutdown     enable ascii "shutdown" command
-l, --listen=<addr>       interface to listen on (default: 127.0.0.1);
                          a comma-separated list listens on each, and
                          <ip>:<port> gives one its own port; with TLS,
                          'notls:' keeps one plain (-l notls:<ip>:<port>)
-d, --daemon              run as a daemon (started again in the background)
-r, --enable-coredumps    accepted; the runtime decides on core files
-u, --user=<user>         accepted; the identity is not changed (run as that user)
-m, --memory-limit=<num>  item memory in megabytes (default: 64)
-e, --memory-file=<file>  keep the cache across a clean stop in <file>
                          (needs deno's --allow-read and --allow-write)
-M, --disable-evictions   return error on memory exhausted instead of evicting
-c, --conn-limit=<num>    max simultaneous connections (default: 1024)
-k, --lock-memory         accepted; memory is not locked
-v, --verbose             verbose (print errors/warnings while in event loop)
-vv                       very verbose (also print client commands/responses)
-vvv                      extremely verbose (as -vv here)
-h, --help                print this help and exit
-i, --license             print the license and exit
-V, --version             print version and exit
-P, --pidfile=<file>      save PID in <file>
-f, --slab-growth-factor=<num> chunk size growth factor (default: 1.25)
-n, --slab-min-size=<bytes> min space used for key+value+flags (default: 48)
-L, --enable-largepages   accepted; the runtime decides on page sizes
-D <char>                 Use <char> as the delimiter between key prefixes and IDs,
                          for "stats detail"; turns per-prefix stats on
                          (default: ":")
-t, --threads=<num>       number of threads to use (default: 4; requests are
                          served on one thread, the value is reported in stats)
-R, --max-reqs-per-event  maximum number of requests per event, limits the
                          requests processed per connection to prevent
                          starvation (default: 20)
-C, --disable-cas         disable use of CAS
-b, --listen-backlog=<num> set the backlog queue limit (default: 1024;
                          shown in stats, the runtime sets its own)
-B, --protocol=<name>     protocol: ascii (default here); binary and auto
                          are refused until the binary protocol is served
-I, --max-item-size=<num> adjusts max item size
                          (default: 1m, min: 1k, max: 1024m)
-F, --disable-flush-all   disable flush_all command
-X, --disable-dumping     disable stats cachedump and lru_crawler metadump
-W  --disable-watch       disable watch commands (live logging)
-Y, --auth-file=<file>    enable ASCII protocol authentication (needs deno's
                          --allow-read); format: user:pass\nuser2:pass2\n
                          reread on SIGHUP
-Z, --enable-ssl          enable TLS/SSL
-N, --napi_ids            number of napi ids (accepted, shown in stats)
-o, --extended            comma separated list of extended options
                          most options have a 'no_' prefix to disable
   - maxconns_fast:       immediately close new connections after limit (default: enabled)
   - hashpower:           an integer multiplier for how large the hash
                          table should be. normally grows at runtime. (default starts at: 0)
   - idle_timeout:        timeout for idle connections. (default: 0, no timeout)
   - read_buf_mem_limit:  limit in megabytes for values still being read.
                          0 means -m (default: 0)
   - connection_layer:    epoll (libc's epoll through FFI: Linux x86_64 with
                          --allow-ffi) or deno (Deno.listen) for plain sockets
                          (default: epoll where it can run, else deno)
   - track_sizes:         enable dynamic reports for 'stats sizes' command.
   - modern, no_modern, no_hashexpand, tail_repair_time, hash_algorithm,
     lru_crawler, no_lru_crawler, lru_crawler_sleep, lru_crawler_tocrawl,
     lru_maintainer, no_lru_maintainer, hot_lru_pct, warm_lru_pct,
     hot_max_factor, warm_max_factor, temporary_ttl, slab_reassign,
     slab_automove, slab_automove_ratio, slab_automove_window, slab_sizes,
     slab_chunk_max, watcher_logbuf_size, worker_logbuf_size, sock_cookie_id,
     ext_* (but ext_path), slab_automove_freeratio:
                          accepted with memcached's checks and shown in
                          "stats settings"; this server has no mechanism for them
   - ssl_chain_cert:      certificate chain file in PEM format
   - ssl_key:             private key, if not part of the -ssl_chain_cert
   - ssl_keyformat:       private key format (PEM only, 1)
   - ssl_verify_mode:     peer certificate verification mode, default is 0(None).
                          valid values are 0(None), 1(Request), 2(Require)
                          or 3(Once)
   - ssl_ca_cert:         PEM format file of acceptable client CA's
   - ssl_wbuf_size:       size in kilobytes of per-connection SSL output buffer
                          (default: 16)
   - ssl_session_cache:   enable server-side SSL session cache, to support session
                          resumption
   - ssl_min_version:     minimum protocol version to accept (default: 2)
                          valid values are 2(tlsv1.2) or 3(tlsv1.3).
`;

const LICENSE = `memcached ${MEMCACHED_VERSION} (@x/memcache ${PACKAGE_VERSION})

@x/memcache is released under the MIT License: see the LICENSE file of its
package. It follows the behaviour of memcached, which is Copyright (c) 2003,
Danga Interactive, Inc., under a BSD license.
`;

/** memcached's getopt string. */
const SHORTOPTS = "a:AZp:s:U:m:Mc:khiVrvdl:u:P:f:n:t:D:LR:Cb:B:I:SFXWY:e:o:N:";

/** memcached's long flags. */
const LONGOPTS: LongOption[] = [
  ["unix-mask", "required", "a"],
  ["enable-shutdown", "none", "A"],
  ["enable-ssl", "none", "Z"],
  ["port", "required", "p"],
  ["unix-socket", "required", "s"],
  ["udp-port", "required", "U"],
  ["memory-limit", "required", "m"],
  ["disable-evictions", "none", "M"],
  ["conn-limit", "required", "c"],
  ["lock-memory", "none", "k"],
  ["help", "none", "h"],
  ["license", "none", "i"],
  ["version", "none", "V"],
  ["enable-coredumps", "none", "r"],
  ["verbose", "optional", "v"],
  ["daemon", "none", "d"],
  ["listen", "required", "l"],
  ["user", "required", "u"],
  ["pidfile", "required", "P"],
  ["slab-growth-factor", "required", "f"],
  ["slab-min-size", "required", "n"],
  ["threads", "required", "t"],
  ["enable-largepages", "none", "L"],
  ["max-reqs-per-event", "required", "R"],
  ["disable-cas", "none", "C"],
  ["listen-backlog", "required", "b"],
  ["protocol", "required", "B"],
  ["max-item-size", "required", "I"],
  ["enable-sasl", "none", "S"],
  ["disable-flush-all", "none", "F"],
  ["disable-dumping", "none", "X"],
  ["disable-watch", "none", "W"],
  ["auth-file", "required", "Y"],
  ["memory-file", "required", "e"],
  ["extended", "required", "o"],
  ["napi-ids", "required", "N"],
].map(([name, value, short]) => ({ name, value, short }) as LongOption);

/** Marks the background process `-d` starts; getopt reads no word after `--`, as memcached reads none. */
const DAEMON_CHILD = ["--", "daemon-child"];

/** The command line without its `-d` flags, for the background process. */
function withoutDaemon(args: string[], at: [number, number | undefined][]): string[] {
  const words = [...args];
  // From the last, so earlier places still hold.
  for (const [word, letter] of at.toReversed()) {
    if (letter === undefined) {
      words[word] = "";
      continue;
    }
    words[word] = words[word].slice(0, letter) + words[word].slice(letter + 1);
    if (words[word] === "-") words[word] = "";
  }
  return [...words.filter((w, i) => w !== "" || args[i] === ""), ...DAEMON_CHILD];
}

/** memcached's -I forms: bytes, or a number with k/K/m/M. */
function itemSizeMax(text: string): number {
  const unit = text.at(-1) ?? "";
  if ("kKmM".includes(unit) && unit !== "") {
    const base = atoi(text.slice(0, -1));
    return Math.imul(base, unit === "k" || unit === "K" ? 1024 : 1024 * 1024);
  }
  return atoi(text);
}

/** Several `-l` flags join with commas; one already contained in the list is skipped, as memcached's strstr check does. */
function listenList(flags: string[]): string | undefined {
  let list: string | undefined;
  for (const flag of flags) {
    if (list === undefined) list = flag;
    else if (!list.includes(flag)) list = `${list},${flag}`;
  }
  return list;
}

function exit(code: number, stderr: string, stdout = ""): CliAction {
  return { kind: "exit", code, stdout, stderr };
}

/** The sizes of a `slab_sizes` list that passed memcached's checks. */
function slabSizeList(list: string): number[] {
  return list.split("-").filter((p) => p !== "").map((p) => safeStrtoul(p) ?? 0);
}

/** memcached's `slab_sizes` checks; undefined when the list is good. */
function slabSizesRefusal(list: string, minSize: number, chunkMax: number): string | undefined {
  if (list === "") return "";
  let last = 0;
  let count = 0;
  for (const part of list.split("-").filter((p) => p !== "")) {
    const size = safeStrtoul(part);
    if (size === undefined || size < minSize || size > chunkMax) {
      return `slab size ${size ?? 0} is out of valid range\n`;
    }
    if (last >= size) {
      return `slab size ${size} cannot be lower than or equal to a previous class size\n`;
    }
    if (size <= last + 8) {
      return `slab size ${size} must be at least 8 bytes larger than previous class\n`;
    }
    last = size;
    // memcached keeps 63 classes and a terminator.
    if (++count >= 63) return "too many slab classes specified\n";
  }
  return undefined;
}

/** The flags as memcached's option loop leaves them. */
interface Flags {
  values: Map<string, string>;
  counts: Map<string, number>;
  listen: string[];
  extended: ExtendedOptions;
  warnings: string;
  /** Where each `-d` is: word, and letter in a cluster. */
  daemon: [number, number | undefined][];
}

/** memcached's option loop: each flag's own check as it is read; an action when one stops the command line. */
function readFlags(args: string[]): Flags | CliAction {
  const values = new Map<string, string>();
  const counts = new Map<string, number>();
  const listen: string[] = [];
  const extended = newExtendedOptions();
  let warnings = "";
  const daemon: [number, number | undefined][] = [];
  for (const flag of getoptLong(args, SHORTOPTS, LONGOPTS)) {
    if ("error" in flag) return exit(1, `${flag.error}\nIllegal argument "?"\n`);
    const { short, value = "" } = flag;
    counts.set(short, (counts.get(short) ?? 0) + 1);
    values.set(short, value);
    switch (short) {
      case "c":
        if (atoi(value) <= 0) return exit(1, "Maximum connections must be greater than 0\n");
        break;
      case "h":
        return exit(0, "", HELP);
      case "i":
        return exit(0, "", LICENSE);
      case "V":
        return exit(0, "", `memcached ${MEMCACHED_VERSION}\n`);
      case "l":
        listen.push(value);
        break;
      case "d":
        daemon.push([flag.word, flag.letter]);
        break;
      case "R":
        if (atoi(value) === 0) {
          return exit(1, "Number of requests per event must be greater than 0\n");
        }
        break;
      case "f":
        if (!(atof(value) > 1)) return exit(1, "Factor must be greater than 1\n");
        break;
      case "n":
        if (atoi(value) === 0) return exit(1, "Chunk size must be greater than 0\n");
        break;
      case "t": {
        const threads = atoi(value);
        if (threads <= 0) return exit(1, "Number of threads must be greater than 0\n");
        if (threads > 64) {
          warnings += "WARNING: Setting a high number of workerthreads is not recommended.\n" +
            " Set this value to the number of cores in your machine or less.\n";
        }
        break;
      }
      case "D":
        if (value === "") return exit(1, "No delimiter specified\n");
        break;
      case "B":
        if (value !== "auto" && value !== "binary" && value !== "ascii") {
          return exit(
            64,
            `Invalid value for binding protocol: ${value}\n -- should be one of auto, binary, or ascii\n`,
          );
        }
        break;
      case "S":
        // memcached's own refusal when it is built without SASL.
        return exit(64, "This server is not built with SASL support.\n");
      case "N":
        if (atoi(value) <= 0) return exit(1, "Maximum number of NAPI IDs must be greater than 0\n");
        break;
      case "o": {
        const refusal = readExtendedOptions(value, extended);
        if (refusal !== undefined && refusal.code !== 0) {
          return exit(refusal.code, refusal.stderr ?? "", refusal.stdout ?? "");
        }
        warnings += refusal?.stderr ?? "";
        break;
      }
    }
  }
  return { values, counts, listen, extended, warnings, daemon };
}

/**
 * Reads memcached's command line.
 *
 * @param args The arguments after the program name.
 * @returns What to do: serve, or print and exit with a code.
 */
export function parseCommandLine(args: string[]): CliAction {
  const read = readFlags(args);
  if ("kind" in read) return read;
  const { values: v, extended } = read;
  const s = extended.settings;
  const number = (flag: string, fallback: number) => v.has(flag) ? atoi(v.get(flag)!) : fallback;

  const threads = number("t", 4);
  const napiIds = v.has("N") ? atoi(v.get("N")!) : undefined;
  if (napiIds !== undefined && napiIds > threads) {
    return exit(
      64,
      `Number of napi_ids(${napiIds}) cannot be greater than number of threads(${threads})\n`,
    );
  }
  const megabytes = number("m", 64);
  // memcached casts -m to size_t, so a negative one is all the memory there is.
  const memoryLimit = megabytes < 0 ? Number.MAX_SAFE_INTEGER : megabytes * 1024 * 1024;
  const maxItemSize = v.has("I") ? itemSizeMax(v.get("I")!) : 1024 * 1024;
  if (maxItemSize < 1024) return exit(64, "Item max size cannot be less than 1024 bytes.\n");
  if (maxItemSize > memoryLimit / 2) {
    return exit(64, "Cannot set item size limit higher than 1/2 of memory max.\n");
  }
  if (maxItemSize > 1024 * 1024 * 1024) {
    return exit(64, "Cannot set item size limit higher than a gigabyte.\n");
  }
  const slabChunkMax = s.slabChunkMax ?? 512 * 1024;
  if (slabChunkMax > maxItemSize) {
    return exit(
      64,
      `slab_chunk_max (bytes: ${slabChunkMax}) cannot be larger than -I (item_size_max ${maxItemSize})\n`,
    );
  }
  if (maxItemSize % slabChunkMax !== 0) {
    return exit(
      64,
      `-I (item_size_max: ${maxItemSize}) must be evenly divisible by slab_chunk_max (bytes: ${slabChunkMax})\n`,
    );
  }
  if ((1024 * 1024) % slabChunkMax !== 0) {
    return exit(
      64,
      `slab_chunk_max (bytes: ${slabChunkMax}) must divide evenly into 1048576 (slab_page_size)\n`,
    );
  }
  const chunkSize = number("n", 48);
  if (extended.slabSizes !== undefined) {
    const refusal = slabSizesRefusal(extended.slabSizes, chunkSize, slabChunkMax);
    if (refusal !== undefined) return exit(64, refusal);
  }
  const hotLruPct = s.hotLruPct ?? 20;
  const warmLruPct = s.warmLruPct ?? 40;
  if (hotLruPct + warmLruPct > 80) {
    return exit(64, "hot_lru_pct + warm_lru_pct cannot be more than 80% combined\n");
  }
  if (s.tempLru && !extended.lruMaintainer) {
    return exit(64, "temporary_ttl requires lru_maintainer to be enabled\n");
  }
  const protocol = v.get("B");
  if (v.has("Y") && protocol !== undefined && protocol !== "ascii") {
    return exit(
      64,
      "ERROR: You cannot allow the BINARY protocol while using ascii authentication tokens.\n",
    );
  }
  const udpPort = number("U", 0);
  // memcached listens on TCP at the UDP port when -U is given without -p.
  const port = v.has("U") && udpPort !== 0 && !v.has("p") ? udpPort : number("p", 11211);
  if (port > 65535) return exit(64, `ERROR: Invalid port number ${port}.\n`);
  if (port < 0) {
    // getaddrinfo refuses a negative service name; memcached prints errno, still 0, after it.
    return exit(
      71,
      `getaddrinfo(): Servname not supported for ai_socktype\nfailed to listen on ${
        read.listen.length > 0
          ? `one of interface(s) ${listenList(read.listen)}`
          : `TCP port ${port}`
      }: Success\n`,
    );
  }
  if (udpPort < 0 || udpPort > 65535) {
    return exit(64, `Cannot listen: UDP port ${udpPort} is out of range\n`);
  }
  if (protocol === "binary" || protocol === "auto") {
    return exit(
      64,
      `Cannot serve -B ${protocol}: this server speaks the ascii protocol only (-B ascii)\n`,
    );
  }

  let tls: ServeTlsOptions | undefined;
  if (v.has("Z")) {
    if (port === 0) return exit(64, "ERROR: You cannot enable SSL without a TCP port.\n");
    const { chainCertFile, keyFile } = extended.tls;
    if (chainCertFile === undefined) {
      return exit(
        64,
        "Error loading the certificate chain: (null) : no file given (-o ssl_chain_cert)\n",
      );
    }
    if (keyFile === undefined) {
      return exit(64, "Error loading the key: (null) : no file given (-o ssl_key)\n");
    }
    tls = { ...extended.tls, chainCertFile, keyFile };
  }
  const { idleTimeout, readBufMemLimit, connectionLayer, ...tunables } = s;
  return {
    kind: "serve",
    pidFile: v.get("P"),
    daemonArgs: read.daemon.length > 0 ? withoutDaemon(args, read.daemon) : undefined,
    daemonChild: args.join("\0").endsWith(DAEMON_CHILD.join("\0")),
    threadsGiven: v.has("t"),
    warnings: read.warnings,
    options: {
      port,
      hostname: listenList(read.listen) ?? "127.0.0.1",
      tls,
      socketPath: v.get("s"),
      socketMask: v.has("a") ? strtolOctal(v.get("a")!) : undefined,
      memoryLimit,
      maxItemSize,
      maxConnections: number("c", 1024),
      evictions: !v.has("M"),
      cas: !v.has("C"),
      enableShutdown: v.has("A"),
      verbosity: read.counts.get("v") ?? 0,
      threads,
      requestsPerEvent: number("R", 20),
      growthFactor: v.has("f") ? atof(v.get("f")!) : 1.25,
      slabMinSize: chunkSize,
      prefixDelimiter: v.get("D")?.[0],
      backlog: number("b", 1024),
      flushEnabled: !v.has("F"),
      idleTimeout,
      readBufMemLimit,
      connectionLayer,
      authFile: v.get("Y"),
      memoryFile: v.get("e"),
      udpPort,
      tunables: {
        ...tunables,
        slabChunkMax,
        slabSizes: extended.slabSizes === undefined ? [] : slabSizeList(extended.slabSizes),
        napiIds,
        dumpEnabled: !v.has("X"),
        watchEnabled: !v.has("W"),
      },
    },
  };
}
