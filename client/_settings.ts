/**
 * The client's options, checked once at construction and resolved with their
 * defaults: a wrong type, a negative, NaN or infinite number, or an option
 * this client does not know is refused before anything connects. Times are
 * given in seconds, as python-memcached, pymemcache and memjs take them, and
 * kept here in milliseconds.
 *
 * @module
 */

import type { Serializer } from "./codec.ts";
import type { ClientAuthOptions, ClientOptions, ClientTlsOptions } from "./options.ts";
import type { Router } from "./router.ts";

/** The options of a client, checked, with every default filled in. */
export interface ClientSettings {
  debug: boolean;
  cacheCas: boolean;
  deadRetryMs: number;
  flushOnRejoin: boolean;
  socketTimeoutMs: number;
  connectTimeoutMs: number;
  minCompressLen: number;
  serverMaxKeyLength: number;
  serverMaxValueLength: number;
  keyPrefix: string;
  routing: "python" | "ketama" | Router;
  legacyZeroHash: boolean;
  tls: ClientTlsOptions | undefined;
  auth: ClientAuthOptions | undefined;
  serializer: Serializer | undefined;
  undecodable: "throw" | "bytes";
}

/** Every option a client takes, by name. */
const KNOWN: ReadonlySet<string> = new Set<keyof ClientOptions>([
  "auth",
  "cacheCas",
  "connectTimeout",
  "deadRetry",
  "debug",
  "flushOnRejoin",
  "keyPrefix",
  "legacyZeroHash",
  "minCompressLen",
  "routing",
  "serializer",
  "serverMaxKeyLength",
  "serverMaxValueLength",
  "socketTimeout",
  "tls",
  "undecodable",
]);

/** setTimeout's longest delay, 2^31 - 1 ms: a longer one fires at once. */
const MAX_SECONDS = Math.floor(0x7fff_ffff / 1000);

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

function fail(name: string, value: unknown, expected: string, error = TypeError): never {
  throw new error(`Cannot create client: ${name} ${describe(value)} is not ${expected}`);
}

function boolean(options: ClientOptions, name: keyof ClientOptions, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") fail(name, value, "true or false");
  return value;
}

/** Seconds, whole or fractional, from 0 or from just above it; in milliseconds. */
function seconds(value: unknown, name: string, fallback: number, zero: boolean): number {
  if (value === undefined) return fallback * 1000;
  const expected = `a number of seconds ${zero ? "from 0" : "above 0"} up to ${MAX_SECONDS}`;
  if (typeof value !== "number") fail(name, value, expected);
  if (!(value >= 0 && value <= MAX_SECONDS) || (!zero && value === 0)) {
    fail(name, value, expected, RangeError);
  }
  return value * 1000;
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const expected = `an integer from ${min} to ${max}`;
  if (typeof value !== "number") fail(name, value, expected);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(name, value, expected, RangeError);
  }
  return value;
}

/** Credentials a memcached auth file can hold and its auth request can carry. */
function auth(value: unknown): ClientAuthOptions | undefined {
  if (value === undefined) return undefined;
  const expected = "{ username, password }";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("auth", value, expected);
  }
  const { username, password, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) fail(`auth.${unknown}`, "given", "an auth option this client knows");
  // The server splits the request's data at spaces and its file's lines at the first colon.
  for (
    const [name, text, banned] of [["username", username, /[ :\0\r\n]/], [
      "password",
      password,
      /[ \0\r\n]/,
    ]] as const
  ) {
    if (typeof text !== "string") fail(`auth.${name}`, text, "a string");
    if (text === "" || banned.test(text)) {
      fail(
        `auth.${name}`,
        text,
        `a non-empty string without spaces, ${name === "username" ? "colons, " : ""}NUL, CR or LF`,
      );
    }
  }
  return { username: username as string, password: password as string };
}

function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) fail(name, value, choices.map(describe).join(" or "));
  return value as T;
}

/**
 * Checks a client's options and fills in the defaults.
 *
 * @param options The options as given.
 * @returns The settings, times in milliseconds.
 * @throws {TypeError} For an option of the wrong type, or one this client does not know.
 * @throws {RangeError} For a number out of its range: negative, NaN, infinite or too large.
 */
export function resolveOptions(options: ClientOptions | undefined): ClientSettings {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`Cannot create client: the options ${describe(options)} are not an object`);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) {
      throw new TypeError(
        `Cannot create client: unknown option "${name}" (the options are ${[...KNOWN].join(", ")})`,
      );
    }
  }
  const keyPrefix = options.keyPrefix ?? "";
  if (typeof keyPrefix !== "string") fail("keyPrefix", keyPrefix, "a string");
  if ([...keyPrefix].some((c) => c <= " " || c === "\x7f")) {
    fail("keyPrefix", keyPrefix, "free of spaces and control characters");
  }
  const routing = options.routing ?? "python";
  if (typeof routing !== "object" || routing === null || typeof routing.pick !== "function") {
    oneOf(routing, "routing", ["python", "ketama"]);
  }
  const tls = options.tls ?? false;
  if (typeof tls !== "boolean") {
    if (typeof tls !== "object" || tls === null) {
      fail("tls", tls, "true, false or { caCerts, certChain, privateKey }");
    }
    const { caCerts, certChain, privateKey, ...rest } = tls;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) fail(`tls.${unknown}`, "given", "a TLS option this client knows");
    if (
      caCerts !== undefined &&
      (!Array.isArray(caCerts) || caCerts.some((cert) => typeof cert !== "string"))
    ) {
      fail("tls.caCerts", caCerts, "an array of PEM strings");
    }
    if (certChain !== undefined && typeof certChain !== "string") {
      fail("tls.certChain", certChain, "a PEM string");
    }
    if (privateKey !== undefined && typeof privateKey !== "string") {
      fail("tls.privateKey", privateKey, "a PEM string");
    }
    if ((certChain === undefined) !== (privateKey === undefined)) {
      fail(
        certChain === undefined ? "tls.privateKey" : "tls.certChain",
        "given alone",
        "given with tls.certChain and tls.privateKey both",
      );
    }
  }
  const serializer = options.serializer;
  if (
    serializer !== undefined &&
    (typeof serializer !== "object" || serializer === null ||
      typeof serializer.serialize !== "function" || typeof serializer.deserialize !== "function")
  ) {
    fail("serializer", serializer, "an object with serialize and deserialize functions");
  }
  return {
    debug: boolean(options, "debug", false),
    cacheCas: boolean(options, "cacheCas", false),
    deadRetryMs: seconds(options.deadRetry, "deadRetry", 30, true),
    flushOnRejoin: boolean(options, "flushOnRejoin", false),
    socketTimeoutMs: seconds(options.socketTimeout, "socketTimeout", 3, false),
    connectTimeoutMs: seconds(options.connectTimeout, "connectTimeout", 3, false),
    minCompressLen: integer(
      options.minCompressLen,
      "minCompressLen",
      0,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    serverMaxKeyLength: integer(options.serverMaxKeyLength, "serverMaxKeyLength", 250, 1, 250),
    serverMaxValueLength: integer(
      options.serverMaxValueLength,
      "serverMaxValueLength",
      1024 * 1024,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    keyPrefix,
    routing,
    legacyZeroHash: boolean(options, "legacyZeroHash", false),
    tls: tls === true ? {} : tls === false ? undefined : tls,
    auth: auth(options.auth),
    serializer,
    undecodable: oneOf(options.undecodable ?? "throw", "undecodable", ["throw", "bytes"]),
  };
}
