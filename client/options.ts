/**
 * The options the client's calls take, and what `gets` returns: shared by
 * the client and the files beside it, so that none of them imports another
 * for a type.
 *
 * @module
 */

import type { ConnectionError } from "../protocol/errors.ts";
import type { Serializer } from "./codec.ts";
import type { Router } from "./router.ts";

/**
 * A server as the client is given it, in python-memcached's forms:
 * `"host:port"` (`"host"` alone means port 11211), `"[::1]:11211"` (or
 * `"inet6:[::1]:11211"`) for IPv6, `"unix:/path"` for a unix socket, or an
 * `[address, weight]` pair. Anything else is refused when the client is created.
 */
export type ServerAddress = string | readonly [string, number];

/** TLS settings for {@linkcode ClientOptions.tls}. */
export interface ClientTlsOptions {
  /** CA certificates (PEM) to trust on top of the system's. */
  caCerts?: string[];
  /**
   * A client certificate chain (PEM), for servers that check them
   * (memcached's `ssl_verify_mode`); given with `privateKey`.
   */
  certChain?: string;
  /** The private key (PEM) of `certChain`. */
  privateKey?: string;
}

/** Credentials for {@linkcode ClientOptions.auth}, as a line `user:password` of memcached's auth file. */
export interface ClientAuthOptions {
  /** The user name: not empty, without spaces, colons, NUL, CR or LF. */
  username: string;
  /** The password: not empty, without spaces, NUL, CR or LF. */
  password: string;
}

/**
 * Options of {@linkcode Client}, checked when it is created: a wrong type, a
 * negative or NaN number, or an option it does not know throws there.
 */
export interface ClientOptions {
  /**
   * Log connection failures and dead servers to stderr.
   *
   * @default {false}
   */
  debug?: boolean;
  /**
   * Remember the cas token of every `gets`, so that `cas(key, value)` without
   * a token uses it (python-memcached's `cache_cas`).
   *
   * @default {false}
   */
  cacheCas?: boolean;
  /**
   * Seconds a server that failed is left out of routing (python-memcached's
   * `dead_retry`), while other servers take its keys. When every server is
   * out, the key's own server is tried again after a second instead.
   *
   * @default {30}
   */
  deadRetry?: number;
  /**
   * Send `flush_all` to a server that was marked dead, ahead of anything
   * else, when the client reconnects to it. While it was left out its keys
   * were read and written on other servers, so the values it still holds may
   * be older than those; python-memcached serves them. Flushing empties the
   * server for every client that shares it, so it suits a cluster where a
   * miss costs less than a stale value. A server that refuses `flush_all`
   * (memcached's `-F`) stays dead.
   *
   * @default {false}
   */
  flushOnRejoin?: boolean;
  /**
   * Seconds a reply may take (python-memcached's `socket_timeout`); fractions allowed.
   *
   * @default {3}
   */
  socketTimeout?: number;
  /**
   * Seconds opening a connection may take; fractions allowed.
   *
   * @default {3}
   */
  connectTimeout?: number;
  /**
   * Compress values longer than this many bytes with zlib when that makes
   * them smaller; 0 never compresses.
   *
   * @default {0}
   */
  minCompressLen?: number;
  /**
   * The longest key, in bytes, after the prefix; at most 250.
   *
   * @default {250}
   */
  serverMaxKeyLength?: number;
  /**
   * The largest value, in bytes after encoding and compression; larger ones
   * are refused with a `RangeError` before anything is sent. 0 turns the check off.
   *
   * @default {1048576}
   */
  serverMaxValueLength?: number;
  /**
   * A prefix put before every key of `getMulti`, `setMulti` and
   * `deleteMulti` (python-memcached's `key_prefix`); results use the keys
   * without it.
   *
   * @default {""}
   */
  keyPrefix?: string;
  /**
   * How keys are placed: `"python"` as python-memcached does
   * ({@linkcode PythonRouter}), `"ketama"` as libmemcached's weighted ketama
   * ({@linkcode KetamaRouter}), or a router of your own, built over the same
   * server list.
   *
   * @default {"python"}
   */
  routing?: "python" | "ketama" | Router;
  /**
   * Passed to {@linkcode PythonRouter}: hash 0 as 1, as python-memcached up
   * to 1.59 does.
   *
   * @default {false}
   */
  legacyZeroHash?: boolean;
  /**
   * Reach the servers over TLS (memcached's `-Z`): `true` trusts the system's
   * CA certificates, `{ caCerts }` adds PEM certificates of your own, and
   * `{ certChain, privateKey }` shows the server a client certificate.
   *
   * @default {false}
   */
  tls?: boolean | ClientTlsOptions;
  /**
   * Authenticate to servers that require it (memcached's `-Y <file>`): every
   * connection, and every reconnection, sends these credentials ahead of its
   * first request. A server that refuses them fails every call queued on the
   * connection with an `AuthError` naming the server and its reply.
   *
   * @default {undefined}
   */
  auth?: ClientAuthOptions;
  /**
   * How values that are not bytes, text or integers are stored (flag 256).
   *
   * @default {JSON as UTF-8}
   */
  serializer?: Serializer;
  /**
   * What a stored value with flags this client cannot decode (a Python
   * pickle, flag 1) becomes: `"throw"` a `ValueFlagsError`, or `"bytes"`
   * its raw bytes.
   *
   * @default {"throw"}
   */
  undecodable?: "throw" | "bytes";
}

/** Options every call takes. */
export interface CallOptions {
  /**
   * Rejects the call with the signal's reason when aborted.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options of the storage calls. */
export interface StoreOptions extends CallOptions {
  /**
   * Seconds to live: 0 never expires, up to 30 days is relative, more is a
   * Unix time, as memcached takes it (and as every call's `ttl`).
   *
   * @default {0}
   */
  ttl?: number;
  /**
   * Ask for no reply: the call resolves `true` once the request is written.
   *
   * @default {false}
   */
  noreply?: boolean;
  /**
   * Overrides the client's `minCompressLen` for this value.
   *
   * @default {the client's}
   */
  minCompressLen?: number;
}

/** Options of `delete`. */
export interface DeleteOptions extends CallOptions {
  /**
   * Ask for no reply: the call resolves `true` once the request is written.
   *
   * @default {false}
   */
  noreply?: boolean;
}

/** Options of `touch`. */
export interface TouchOptions extends CallOptions {
  /**
   * Ask for no reply: the call resolves `true` once the request is written.
   *
   * @default {false}
   */
  noreply?: boolean;
}

/** Options of `getMulti` and `deleteMulti`. */
export interface MultiOptions extends CallOptions {
  /**
   * Overrides the client's `keyPrefix` for this call.
   *
   * @default {the client's}
   */
  keyPrefix?: string;
}

/** Options of `setMulti`. */
export interface SetMultiOptions extends MultiOptions {
  /**
   * Seconds to live: 0 never expires, up to 30 days is relative, more is a
   * Unix time, as memcached takes it (and as every call's `ttl`).
   *
   * @default {0}
   */
  ttl?: number;
  /**
   * Overrides the client's `minCompressLen` for these values.
   *
   * @default {the client's}
   */
  minCompressLen?: number;
}

/** Options of `flushAll`. */
export interface FlushOptions extends CallOptions {
  /**
   * Seconds until the flush.
   *
   * @default {0}
   */
  delay?: number;
}

/** Options of `stats`. */
export interface StatsOptions extends CallOptions {
  /**
   * The group to ask for (`"items"`, `"slabs"`, `"settings"`); none for the general stats.
   *
   * @default {undefined}
   */
  group?: string;
}

/** A value with its cas token, from `gets`. */
export interface CasValue<T> {
  /** The value. */
  value: T;
  /** The cas unique to pass to `cas`. */
  cas: bigint;
}

/** A server that failed and is left out of routing, from {@linkcode Client.deadServers}. */
export interface DeadServer {
  /** The server, as `host:port` (`[ipv6]:port`, `unix:/path`). */
  server: string;
  /** Why it was marked dead: the connection error, with its own `cause`. */
  error: ConnectionError;
  /** When it takes keys again, unless a call brings it back sooner. */
  until: Date;
}
