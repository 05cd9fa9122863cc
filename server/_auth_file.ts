/**
 * The users of ASCII authentication (`-Y <file>`), as memcached's
 * `authfile.c` reads them: one `user:password` per line, the user up to the
 * first `:`, the password up to the line's end (`\r` or `\n`). A line
 * without `:` (an empty line too) makes the whole file malformed.
 *
 * Where memcached 1.6.18 silently misreads a file, this one reads it whole:
 * memcached keeps only the first 8 users and cuts every line at 255 bytes
 * (ignoring the rest of the file after a longer one); here every user of
 * every length counts. A NUL byte, which ends memcached's reading early, is
 * refused as malformed.
 *
 * Passwords are never compared as they are: each is kept as its SHA-256
 * digest, and a check compares digests of equal length in full, with a
 * decoy for an unknown user, so neither a password's length, how much of it
 * matched, nor whether the user exists shows in the time a check takes.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";

const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;

/** The auth file cannot be read, or is malformed; the message is memcached's. */
export class AuthFileError extends Error {
  /**
   * Creates the error.
   *
   * @param message memcached's message for this failure.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuthFileError";
  }
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** Compares two digests of the same length in full: no early return on a mismatch. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let delta = 0;
  for (let i = 0; i < a.length; i++) delta |= a[i] ^ b[i];
  return delta === 0;
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** The text of an OS error as strerror gives it, without Deno's "(os error N)" and path. */
function strerror(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "");
}

/** The users an auth file names, each with the digests of its passwords. */
export class AuthFile {
  /** User (bytes as Latin-1) → digests of the passwords listed for it. */
  #users = new Map<string, Uint8Array[]>();
  /** Compared against when the user is unknown, so a miss costs what a hit does. */
  #decoy = [sha256(randomBytes(32))];

  /**
   * Reads the users from the file's bytes.
   *
   * @param bytes The file's contents.
   * @param path The file's name, for the error.
   * @returns The users.
   * @throws {AuthFileError} When a line has no `:` or holds a NUL byte.
   */
  static parse(bytes: Uint8Array, path: string): AuthFile {
    const file = new AuthFile();
    let line = 0;
    for (let start = 0; start < bytes.length;) {
      line++;
      let end = bytes.indexOf(LF, start);
      if (end < 0) end = bytes.length;
      const colon = bytes.subarray(start, end).indexOf(COLON);
      if (colon < 0 || bytes.subarray(start, end).includes(0)) {
        throw new AuthFileError(
          `Authfile [${path}] has a malformed entry. Should be 'user:password' (line ${line})`,
        );
      }
      const passwordStart = start + colon + 1;
      let passwordEnd = bytes.subarray(passwordStart, end).indexOf(CR);
      passwordEnd = passwordEnd < 0 ? end : passwordStart + passwordEnd;
      const user = latin1(bytes.subarray(start, start + colon));
      const digest = sha256(bytes.subarray(passwordStart, passwordEnd));
      const digests = file.#users.get(user);
      if (digests === undefined) file.#users.set(user, [digest]);
      else digests.push(digest);
      start = end + 1;
    }
    return file;
  }

  /**
   * Reads an auth file from disk, synchronously (the server's start).
   *
   * @param path The file.
   * @returns The users.
   * @throws {AuthFileError} When it cannot be read or is malformed, with memcached's message.
   */
  static readSync(path: string): AuthFile {
    let bytes;
    try {
      bytes = Deno.readFileSync(path);
    } catch (error) {
      throw AuthFile.#unreadable(path, error);
    }
    return AuthFile.parse(bytes, path);
  }

  /**
   * Reads an auth file from disk (a reload).
   *
   * @param path The file.
   * @returns The users.
   * @throws {AuthFileError} When it cannot be read or is malformed, with memcached's message.
   */
  static async read(path: string): Promise<AuthFile> {
    let bytes;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      throw AuthFile.#unreadable(path, error);
    }
    return AuthFile.parse(bytes, path);
  }

  static #unreadable(path: string, error: unknown): AuthFileError {
    // Deno's permission error says what to do about it; an OS error reads as memcached's.
    const why = error instanceof Deno.errors.NotCapable
      ? `run deno with --allow-read (${(error as Error).message})`
      : `error ${strerror(error)}`;
    return new AuthFileError(`Could not open authfile [${path}] for reading, ${why}`, {
      cause: error,
    });
  }

  /** How many users the file names. */
  get size(): number {
    return this.#users.size;
  }

  /**
   * Whether the file lists this user with this password.
   *
   * @param user The user's bytes.
   * @param password The password's bytes.
   * @returns Whether they match a line of the file.
   */
  check(user: Uint8Array, password: Uint8Array): boolean {
    const digest = sha256(password);
    const digests = this.#users.get(latin1(user)) ?? this.#decoy;
    let match = false;
    // Every password listed for the user is compared, as memcached tries every line.
    for (const candidate of digests) match = sameDigest(digest, candidate) || match;
    return match && digests !== this.#decoy;
  }
}
