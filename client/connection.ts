/**
 * One connection to one server, pipelined: requests are appended to an
 * outgoing buffer and a FIFO of pending replies, the buffer is written once
 * per microtask turn, and replies settle the FIFO in order.
 *
 * @module
 */

import {
  AuthError,
  ClientError,
  CommandError,
  ConnectionError,
  MemcacheError,
  ServerError,
  TimeoutError,
} from "../protocol/errors.ts";
import type { ClientAuthOptions, ClientTlsOptions } from "./options.ts";
import type { ByteSink } from "../protocol/write_buffer.ts";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import { type Response, ResponseParser, ValueSpan } from "../protocol/response_parser.ts";
import { authError, authReader, writeAuth } from "./_auth.ts";

/**
 * Reads the frames of one reply. Frames are views into the parser's buffer:
 * copy what you keep before returning.
 */
export interface ReplyReader<T> {
  /**
   * Takes the next frame of this reply (never an error frame: those end the
   * reply with an error).
   *
   * @param frame The frame.
   * @returns `undefined` while more frames belong to this reply, else a box
   *   holding the result, or the error to reject the call with (the
   *   connection stays usable). A reader throws only when the reply makes no
   *   sense, which closes the connection.
   */
  frame(frame: Response): { value: T } | { error: unknown } | undefined;
  /**
   * Takes a `VALUE` frame where it lies in the parser's buffer, without a
   * frame object: a reader with this method gets each `VALUE` frame in the
   * form memcached writes here, and any other through `frame`. It throws as
   * `frame` does.
   *
   * @param span Where the frame's key and value lie; valid during the call.
   */
  value?(span: ValueSpan): void;
}

/** A request a connection sends ahead of everything queued when it opens. */
export interface OpeningRequest {
  /** The command's name, for errors. */
  name: string;
  /** Writes the request. */
  write: (sink: ByteSink) => void;
  /** Reads its reply; an error reply is a refusal. */
  reader: ReplyReader<unknown>;
}

/** Options of {@linkcode Connection}. */
export interface ConnectionOptions {
  /**
   * How long opening the connection may take, in milliseconds.
   *
   * @default {3000}
   */
  connectTimeout?: number;
  /**
   * How long a reply may take, from its request being queued on an open
   * connection, in milliseconds.
   *
   * @default {3000}
   */
  socketTimeout?: number;
  /**
   * Called once each time the connection fails (cannot connect, times out,
   * breaks), after the pending calls were failed.
   *
   * @default {undefined}
   */
  onFailure?: (error: ConnectionError) => void;
  /**
   * Called each time the connection opens.
   *
   * @default {undefined}
   */
  onOpen?: () => void;
  /**
   * Asked each time the connection opens, before `onOpen`: a request to send
   * ahead of those queued (a `flush_all`, say), or undefined for none. If
   * the server refuses it, the queued requests fail with a
   * `ConnectionError` and the connection closes.
   *
   * @default {undefined}
   */
  opening?: () => OpeningRequest | undefined;
  /**
   * Reach the server through this unix socket instead of TCP.
   *
   * @default {undefined}
   */
  path?: string;
  /**
   * Speak TLS to the server, trusting these CA certificates (PEM) on top of
   * the system's and showing it this client certificate; undefined for plain TCP.
   *
   * @default {undefined}
   */
  tls?: ClientTlsOptions;
  /**
   * Authenticate each time the connection opens (memcached's `-Y`), ahead of
   * the requests queued: if the server refuses, they all fail with an
   * `AuthError` and the connection closes.
   *
   * @default {undefined}
   */
  auth?: ClientAuthOptions;
}

/** The errors of connections that could not be opened: their requests were never sent. */
const UNSENT = new WeakSet<object>();

/**
 * Whether a call failed because its connection could not be opened, so the
 * request was never sent and may safely be sent to another server.
 *
 * @param error What the call rejected with.
 * @returns Whether nothing was sent.
 */
export function isUnsent(error: unknown): boolean {
  return typeof error === "object" && error !== null && UNSENT.has(error);
}

interface Pending {
  reader: ReplyReader<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  deadline: number;
  /** The caller gave up (abort); the reply is still read, then dropped. */
  abandoned: boolean;
  cleanup: (() => void) | undefined;
}

const READ_SIZE = 64 * 1024;

function errorFrom(frame: Response & { type: "error" }, server: string): Error {
  const line = frame.message === "" ? frame.kind : `${frame.kind} ${frame.message}`;
  const options = { server, line };
  switch (frame.kind) {
    case "ERROR":
      return new CommandError(`Cannot run command: the server answered "${line}"`, options);
    case "CLIENT_ERROR":
      return new ClientError(`Cannot run command: the server answered "${line}"`, options);
    case "SERVER_ERROR":
      return new ServerError(`Cannot run command: the server answered "${line}"`, options);
  }
}

/**
 * A pipelined connection to one memcached server, opened on first use and
 * reopened after a failure. Internal: the client's cluster holds one per
 * server, and `@x/memcache/client` does not export it.
 */
export class Connection {
  /** `host:port`, as errors name it. */
  readonly server: string;
  #host: string;
  #port: number;
  #path: string | undefined;
  #connectTimeout: number;
  #tls: ClientTlsOptions | undefined;
  #socketTimeout: number;
  #onFailure: ((error: ConnectionError) => void) | undefined;
  #onOpen: (() => void) | undefined;
  #opening: (() => OpeningRequest | undefined) | undefined;
  #auth: ClientAuthOptions | undefined;
  /** While the connection authenticates: quiet calls written, settled by its outcome. */
  #held: { resolve: () => void; reject: (e: unknown) => void }[] | undefined;

  #conn: Deno.Conn | undefined;
  #connecting: Promise<void> | undefined;
  /** Bumped on every (re)open, so a stale read loop or write knows to stop. */
  #generation = 0;
  #out = new WriteBuffer();
  #spare = new WriteBuffer();
  #writing = false;
  #flushQueued = false;
  /** Waiters for the bytes now in `#out` to be written (noreply calls). */
  #written: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #pending: Pending[] = [];
  #head = 0;
  /** Where the read loop's `VALUE` frames lie, one object reused for all. */
  #span = new ValueSpan();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Creates a connection; nothing is opened until the first request.
   *
   * @param host The host name or address.
   * @param port The TCP port.
   * @param options Timeouts and the failure callback.
   */
  constructor(host: string, port: number, options: ConnectionOptions = {}) {
    this.#host = host;
    this.#port = port;
    this.#path = options.path;
    this.server = options.path !== undefined
      ? `unix:${options.path}`
      : host.includes(":")
      ? `[${host}]:${port}`
      : `${host}:${port}`;
    this.#connectTimeout = options.connectTimeout ?? 3000;
    this.#socketTimeout = options.socketTimeout ?? 3000;
    this.#onFailure = options.onFailure;
    this.#onOpen = options.onOpen;
    this.#opening = options.opening;
    this.#tls = options.tls;
    this.#auth = options.auth;
  }

  /** How many replies are awaited. */
  get pending(): number {
    return this.#pending.length - this.#head;
  }

  /**
   * Queues a request and resolves with its reply.
   *
   * @param write Writes the request's bytes; it must throw before writing
   *   anything when the request is invalid.
   * @param reader Reads the reply's frames.
   * @param signal Rejects the call with the signal's reason when aborted;
   *   the reply is still read and dropped, so the connection stays in step.
   * @returns The reader's result.
   * @throws {ConnectionError} When the connection cannot be opened or breaks.
   * @throws {TimeoutError} When no reply comes within `socketTimeout`.
   * @throws {CommandError | ClientError | ServerError} When the server answers with an error.
   */
  send<T>(
    write: (sink: ByteSink) => void,
    reader: ReplyReader<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    signal?.throwIfAborted();
    this.#append(write);
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        reader: reader as ReplyReader<unknown>,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: this.#conn ? this.#now() + this.#socketTimeout : Infinity,
        abandoned: false,
        cleanup: undefined,
      };
      if (signal) {
        const onAbort = () => {
          entry.abandoned = true;
          entry.cleanup = undefined;
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#pending.push(entry);
      if (this.#timer === undefined && this.#conn) this.#arm();
    });
  }

  /**
   * Queues a request that gets no reply (`noreply`), resolving once it is
   * written.
   *
   * @param write Writes the request's bytes.
   * @returns A promise that settles when the bytes are written.
   * @throws {ConnectionError} When the connection cannot be opened or breaks.
   */
  sendQuiet(write: (sink: ByteSink) => void): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#append(write);
    return new Promise((resolve, reject) => this.#written.push({ resolve, reject }));
  }

  /**
   * The monotonic clock, read once for all the calls made before the next
   * microtask: a burst of calls shares one reading, and a deadline a few
   * microseconds early is still a deadline.
   */
  #now(): number {
    if (this.#reading < 0) {
      this.#reading = performance.now();
      queueMicrotask(this.#forget);
    }
    return this.#reading;
  }

  #reading = -1;
  #forget = () => {
    this.#reading = -1;
  };

  /** Closes the socket and fails every pending call. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fail(this.#closedError(), false);
  }

  #closedError(): ConnectionError {
    return new ConnectionError("Cannot send request: the client is closed", {
      server: this.server,
    });
  }

  #append(write: (sink: ByteSink) => void): void {
    const out = this.#out;
    const mark = out.length;
    try {
      write(out);
    } catch (error) {
      out.truncate(mark);
      throw error;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#writing || this.#out.length === 0 || this.#closed) return;
    if (!this.#conn) {
      this.#connecting ??= this.#open();
      return;
    }
    void this.#writeLoop(this.#conn, this.#generation);
  }

  async #writeLoop(conn: Deno.Conn, generation: number): Promise<void> {
    this.#writing = true;
    let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
    try {
      while (this.#out.length > 0 && generation === this.#generation) {
        const batch = this.#out;
        waiters = this.#written;
        this.#out = this.#spare;
        this.#spare = batch;
        this.#written = [];
        const bytes = batch.view();
        for (let sent = 0; sent < bytes.length;) {
          sent += await conn.write(bytes.subarray(sent));
        }
        batch.clear();
        // A quiet call is only done once the connection it went on has authenticated.
        if (this.#held !== undefined) this.#held.push(...waiters);
        else for (const w of waiters) w.resolve();
        waiters = [];
      }
    } catch (cause) {
      const error = new ConnectionError(`Cannot write to ${this.server}: ${cause}`, {
        server: this.server,
        cause,
      });
      if (generation === this.#generation) this.#fail(error, true);
      // A batch in flight when the connection was dropped is no longer in #written: settle it here.
      for (const w of waiters) w.reject(error);
    } finally {
      if (generation === this.#generation) this.#writing = false;
    }
  }

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dialed: Deno.Conn | undefined;
    const connecting = this.#dial().then(async (conn) => {
      dialed = conn;
      // Deno.connectTls resolves before the handshake: a peer that never speaks TLS must time out here.
      if (this.#tls !== undefined) await (conn as Deno.TlsConn).handshake();
      return conn;
    });
    const timedOut = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), this.#connectTimeout)
    );
    let conn: Deno.Conn;
    try {
      const won = await Promise.race([connecting, timedOut]);
      if (won === "timeout") {
        // Closing a socket stuck in its handshake ends the handshake too, so nothing lingers.
        if (dialed !== undefined) dialed.close();
        else connecting.then((c) => c.close(), () => {});
        throw new TimeoutError(
          `Cannot connect to ${this.server}: no answer within ${this.#connectTimeout / 1000} s`,
          { server: this.server },
        );
      }
      conn = won;
    } catch (cause) {
      clearTimeout(timer);
      this.#connecting = undefined;
      if (generation !== this.#generation || this.#closed) return;
      const error = cause instanceof TimeoutError ? cause : new ConnectionError(
        `Cannot connect to ${this.server}: ${(cause as Error).message ?? cause}`,
        { server: this.server, cause },
      );
      UNSENT.add(error);
      this.#fail(error, true);
      return;
    }
    clearTimeout(timer);
    this.#connecting = undefined;
    if (generation !== this.#generation || this.#closed) {
      conn.close();
      return;
    }
    // Small pipelined requests must not wait for Nagle; TLS connections have no such switch.
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    this.#conn = conn;
    const opening = this.#opening?.();
    this.#onOpen?.();
    // Each goes ahead of what is queued: the opening request, then ahead of it the authentication.
    if (opening !== undefined) this.#sendOpening(opening);
    if (this.#auth !== undefined) this.#authenticate(this.#auth);
    const deadline = performance.now() + this.#socketTimeout;
    for (let i = this.#head; i < this.#pending.length; i++) {
      if (this.#pending[i].deadline === Infinity) this.#pending[i].deadline = deadline;
    }
    if (this.pending > 0) this.#arm();
    void this.#readLoop(conn, generation);
    void this.#writeLoop(conn, generation);
  }

  /** Opens the socket: a unix socket, TCP, or TLS over TCP. */
  #dial(): Promise<Deno.Conn> {
    if (this.#path !== undefined) return Deno.connect({ transport: "unix", path: this.#path });
    if (this.#tls === undefined) return Deno.connect({ hostname: this.#host, port: this.#port });
    return Deno.connectTls({
      hostname: this.#host,
      port: this.#port,
      caCerts: this.#tls.caCerts,
      ...this.#tls.certChain === undefined
        ? {}
        : { cert: this.#tls.certChain, key: this.#tls.privateKey ?? "" },
    });
  }

  /**
   * Puts a request ahead of everything queued, its reply first in line; the
   * quiet calls queued wait for its outcome. If the server refuses it,
   * `refused` makes the error everything queued fails with.
   */
  #prepend(
    write: (sink: ByteSink) => void,
    reader: ReplyReader<unknown>,
    refused: (error: unknown) => { error: ConnectionError | AuthError; report: boolean },
  ): void {
    const queued = this.#out;
    const out = this.#spare;
    write(out);
    out.bytes(queued.view());
    queued.clear();
    this.#out = out;
    this.#spare = queued;
    const outer = this.#held;
    this.#held = [];
    this.#pending.splice(this.#head, 0, {
      reader,
      resolve: () => {
        const held = this.#held ?? [];
        this.#held = outer;
        // Under an outer request (authentication over an opening one), its outcome settles them.
        if (outer !== undefined) outer.push(...held);
        else for (const w of held) w.resolve();
      },
      reject: (error) => {
        // A broken connection fails everything itself; a refusal fails it here.
        if (error instanceof ConnectionError) return;
        const failure = refused(error);
        this.#fail(failure.error, failure.report);
      },
      deadline: Infinity,
      abandoned: false,
      cleanup: undefined,
    });
  }

  /** Authenticates ahead of everything queued. */
  #authenticate(auth: ClientAuthOptions): void {
    this.#prepend((sink) => writeAuth(sink, auth), authReader(this.server, auth.username), (e) => {
      const line = e instanceof MemcacheError ? e.line ?? "" : String(e);
      return {
        error: e instanceof AuthError ? e : authError(this.server, auth.username, line),
        report: false,
      };
    });
  }

  /** Sends the opening request ahead of everything queued; a refusal leaves the server failed. */
  #sendOpening(request: OpeningRequest): void {
    this.#prepend(request.write, request.reader, (cause) => ({
      error: new ConnectionError(
        `Cannot open ${this.server}: it refused ${request.name} (${
          (cause as Error).message ?? cause
        })`,
        { server: this.server, cause },
      ),
      report: true,
    }));
  }

  async #readLoop(conn: Deno.Conn, generation: number): Promise<void> {
    const parser = new ResponseParser();
    try {
      while (generation === this.#generation) {
        const n = await conn.read(parser.reserve(READ_SIZE));
        if (generation !== this.#generation) return;
        if (n === null) {
          // A server closing an idle connection (memcached's idle_timeout) is not down: reopen on next use.
          const idle = this.pending === 0 && !this.#writing && this.#out.length === 0;
          this.#fail(
            new ConnectionError(
              `Cannot read from ${this.server}: the server closed the connection`,
              { server: this.server },
            ),
            !idle,
          );
          return;
        }
        parser.commit(n);
        this.#drain(parser);
      }
    } catch (cause) {
      if (generation !== this.#generation) return;
      this.#fail(
        cause instanceof ConnectionError ? cause : new ConnectionError(
          `Cannot read from ${this.server}: ${(cause as Error).message ?? cause}`,
          { server: this.server, cause },
        ),
        true,
      );
    }
  }

  /** Hands every whole frame buffered to the reader of its reply. */
  #drain(parser: ResponseParser): void {
    const span = this.#span;
    for (;;) {
      const entry = this.#pending[this.#head];
      if (entry?.reader.value !== undefined && parser.nextValue(span)) {
        try {
          entry.reader.value(span);
        } catch (e) {
          // As in #dispatch: the stream is unknown now.
          this.#settle(entry, { error: e });
          throw e;
        }
        continue;
      }
      const frame = parser.next();
      if (frame === undefined) return;
      this.#dispatch(frame);
    }
  }

  #dispatch(frame: Response): void {
    const entry = this.#pending[this.#head];
    if (entry === undefined) {
      throw new ConnectionError(`Cannot read from ${this.server}: a reply nobody asked for`, {
        server: this.server,
      });
    }
    let done: { value: unknown } | { error: unknown } | undefined;
    if (frame.type === "error") {
      done = { error: errorFrom(frame, this.server) };
    } else {
      try {
        done = entry.reader.frame(frame);
      } catch (e) {
        // A reader that cannot make sense of its reply leaves the stream unknown.
        this.#settle(entry, { error: e });
        throw e;
      }
      if (done === undefined) return;
    }
    this.#settle(entry, done);
  }

  #settle(entry: Pending, done: { value: unknown } | { error: unknown }): void {
    this.#pending[this.#head] = undefined as unknown as Pending;
    this.#head++;
    if (this.#head === this.#pending.length) {
      this.#pending.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    entry.cleanup?.();
    if (entry.abandoned) return;
    if ("value" in done) entry.resolve(done.value);
    else entry.reject(done.error);
  }

  /** Arms the watchdog for the oldest pending reply; deadlines only grow along the FIFO. */
  #arm(): void {
    const head = this.#pending[this.#head];
    if (head === undefined || head.deadline === Infinity) return;
    const delay = Math.max(0, head.deadline - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const first = this.#pending[this.#head];
      if (first === undefined) return;
      if (first.deadline <= performance.now() + 1) {
        this.#fail(
          new TimeoutError(
            `Cannot read from ${this.server}: no reply within ${this.#socketTimeout / 1000} s`,
            { server: this.server },
          ),
          true,
        );
      } else {
        this.#arm();
      }
    }, delay);
  }

  /** Drops the socket and fails every pending call and write waiter with `error`. */
  #fail(error: ConnectionError | AuthError, report: boolean): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = false;
    this.#connecting = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch { /* already closed */ }
    const pending = this.#pending.slice(this.#head);
    this.#pending = [];
    this.#head = 0;
    const waiters = [...this.#written, ...this.#held ?? []];
    this.#written = [];
    this.#held = undefined;
    this.#out.clear();
    this.#spare.clear();
    for (const entry of pending) {
      entry.cleanup?.();
      if (!entry.abandoned) entry.reject(error);
    }
    for (const w of waiters) w.reject(error);
    if (report && error instanceof ConnectionError) this.#onFailure?.(error);
  }
}
