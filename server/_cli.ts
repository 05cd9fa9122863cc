/**
 * The command line: memcached's flags, with memcached's meaning, defaults and
 * error messages where they apply to this server.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ServeOptions } from "./server.ts";
import type { ServeTlsOptions } from "./_types.ts";
import { MEMCACHED_VERSION, PACKAGE_VERSION } from "./_version.ts";
import { type ExtendedOptions, readExtendedOptions } from "./_extended_options.ts";

/** What the command line asks for: serve with options, or print and exit. */
export type CliAction =
  | { kind: "serve"; options: ServeOptions; pidFile: string | undefined }
  | { kind: "exit"; code: number; stdout: string; stderr: string };

const HELP = `memcached ${MEMCACHED_VERSION} (@x/memcache ${PACKAGE_VERSION})
-p, --port=<num>          TCP port to listen on (default: 11211)
-U, --udp-port=<num>      UDP port to listen on (default: 0, off; only 0 is supported)
-A, --enable-shutdown     enable ascii "shutdown" command
-s, --unix-socket=<file>  UNIX socket to listen on (disables network support)
-a, --unix-mask=<mask>    access mask for UNIX socket, in octal (default: 700)
-l, --listen=<addr>       interface to listen on (default: 127.0.0.1);
                          a comma-separated list listens on each, and
                          <ip>:<port> gives one its own port; with TLS,
                          'notls:' keeps one plain (-l notls:<ip>:<port>)
-m, --memory-limit=<num>  item memory in megabytes (default: 64)
-M, --disable-evictions   return error on memory exhausted instead of evicting
-c, --conn-limit=<num>    max simultaneous connections (default: 1024)
-v, --verbose             verbose (print errors/warnings while in event loop)
-vv                       very verbose (also print client commands/responses)
-h, --help                print this help and exit
-V, --version             print version and exit
-P, --pidfile=<file>      save PID in <file>
-t, --threads=<num>       number of threads to use (default: 4; requests are
                          served on one thread, the value is reported in stats)
-C, --disable-cas         disable use of CAS
-I, --max-item-size=<num> adjusts max item size
                          (default: 1m, min: 1k, max: 1024m)
-Z, --enable-ssl          enable TLS/SSL
-o, --extended            comma separated list of extended options
                          most options have a 'no_' prefix to disable
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
-Y, --auth-file=<file>    enable ASCII protocol authentication (needs deno's
                          --allow-read); format: user:pass\nuser2:pass2\n
                          reread on SIGHUP
`;

/** C's atoi: leading white space, a sign, digits; 0 when there are none; 32-bit wrap. */
function atoi(text: string): number {
  const match = /^[\t\n\v\f\r ]*([+-]?\d*)/.exec(text);
  const digits = match?.[1] ?? "";
  const value = Number.parseInt(digits, 10);
  return Number.isNaN(value) ? 0 : Number(BigInt.asIntN(32, BigInt(value)));
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

/** C's strtol(text, NULL, 8): leading octal digits, 0 when there are none. */
function strtolOctal(text: string): number {
  const digits = /^[\t\n\v\f\r ]*([+-]?[0-7]*)/.exec(text)?.[1] ?? "";
  const value = Number.parseInt(digits, 8);
  return Number.isNaN(value) ? 0 : value;
}

/** Several `-l` flags join with commas; one already contained in the list is skipped, as memcached's strstr check does. */
function listenList(flags: string[] | undefined): string | undefined {
  let list: string | undefined;
  for (const flag of flags ?? []) {
    if (list === undefined) list = flag;
    else if (!list.includes(flag)) list = `${list},${flag}`;
  }
  return list;
}

function exit(code: number, stderr: string, stdout = ""): CliAction {
  return { kind: "exit", code, stdout, stderr };
}

/** The short flags that take a value, and their long names. */
const VALUED: Record<string, string> = {
  p: "port",
  U: "udp-port",
  l: "listen",
  m: "memory-limit",
  c: "conn-limit",
  P: "pidfile",
  t: "threads",
  I: "max-item-size",
  s: "unix-socket",
  a: "unix-mask",
  o: "extended",
  Y: "auth-file",
};

/** Joins `-c -5` into `--conn-limit=-5`, since getopt takes the next word as the value, dash or not. */
function joinValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const long = /^-[a-zA-Z]$/.test(args[i]) ? VALUED[args[i][1]] : undefined;
    if (long !== undefined && i + 1 < args.length) {
      joined.push(`--${long}=${args[++i]}`);
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

/**
 * Reads memcached's command line.
 *
 * @param args The arguments after the program name.
 * @returns What to do: serve, or print and exit with a code.
 */
export function parseCommandLine(args: string[]): CliAction {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinValues(args),
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string", short: "p" },
        "udp-port": { type: "string", short: "U" },
        "enable-shutdown": { type: "boolean", short: "A" },
        "memory-limit": { type: "string", short: "m" },
        "disable-evictions": { type: "boolean", short: "M" },
        "conn-limit": { type: "string", short: "c" },
        verbose: { type: "boolean", short: "v", multiple: true },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        pidfile: { type: "string", short: "P" },
        threads: { type: "string", short: "t" },
        "disable-cas": { type: "boolean", short: "C" },
        "max-item-size": { type: "string", short: "I" },
        "unix-socket": { type: "string", short: "s" },
        "unix-mask": { type: "string", short: "a" },
        "enable-ssl": { type: "boolean", short: "Z" },
        extended: { type: "string", short: "o", multiple: true },
        listen: { type: "string", short: "l", multiple: true },
        "auth-file": { type: "string", short: "Y" },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const option = /'(-{1,2}[^']*)'/.exec(message)?.[1] ?? "";
    const line = option.startsWith("--")
      ? `memcached: unrecognized option '${option}'`
      : option !== ""
      ? `memcached: invalid option -- '${option.replace(/^-/, "")}'`
      : `memcached: ${message}`;
    return exit(1, `${line}\nIllegal argument "?"\n`);
  }
  const v = parsed.values;
  if (v.help) return exit(0, "", HELP);
  if (v.version) return exit(0, "", `memcached ${MEMCACHED_VERSION}\n`);

  const maxConnections = v["conn-limit"] === undefined ? 1024 : atoi(v["conn-limit"]);
  if (maxConnections <= 0) return exit(1, "Maximum connections must be greater than 0\n");
  const threads = v.threads === undefined ? 4 : atoi(v.threads);
  if (threads <= 0) return exit(1, "Number of threads must be greater than 0\n");
  const udpPort = v["udp-port"] === undefined ? 0 : atoi(v["udp-port"]);
  if (udpPort !== 0) return exit(64, "UDP is not supported: -U takes 0 only\n");

  const megabytes = v["memory-limit"] === undefined ? 64 : atoi(v["memory-limit"]);
  const memoryLimit = Math.max(0, megabytes) * 1024 * 1024;
  const maxItemSize = v["max-item-size"] === undefined
    ? 1024 * 1024
    : itemSizeMax(v["max-item-size"]);
  if (maxItemSize < 1024) return exit(64, "Item max size cannot be less than 1024 bytes.\n");
  if (maxItemSize > 1024 * 1024 * 1024) {
    return exit(64, "Cannot set item size limit higher than 1 GB.\n");
  }
  if (maxItemSize > memoryLimit / 2) {
    return exit(64, "Cannot set item size limit higher than 1/2 of memory max.\n");
  }

  const port = v.port === undefined ? 11211 : atoi(v.port);
  if (port < 0 || port > 65535) return exit(64, `Cannot listen: port ${port} is out of range\n`);

  const extended: ExtendedOptions = { tls: {} };
  for (const list of v.extended ?? []) {
    const refusal = readExtendedOptions(list, extended);
    if (refusal !== undefined) {
      return exit(refusal.code, refusal.stderr ?? "", refusal.stdout ?? "");
    }
  }
  let tls: ServeTlsOptions | undefined;
  if (v["enable-ssl"]) {
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
  return {
    kind: "serve",
    pidFile: v.pidfile,
    options: {
      port,
      hostname: listenList(v.listen) ?? "127.0.0.1",
      tls,
      socketPath: v["unix-socket"],
      socketMask: v["unix-mask"] === undefined ? undefined : strtolOctal(v["unix-mask"]),
      memoryLimit,
      maxItemSize,
      maxConnections,
      evictions: !v["disable-evictions"],
      cas: !v["disable-cas"],
      enableShutdown: v["enable-shutdown"] ?? false,
      verbosity: v.verbose?.length ?? 0,
      threads,
      authFile: v["auth-file"],
    },
  };
}
