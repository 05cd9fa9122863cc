/**
 * A client socket in the epoll loop, read and written through libc as the
 * connection loop reads and writes a Deno connection. Bytes already in the
 * kernel are read at once; a read or write that would block waits for the
 * socket's next edge (it is in the set edge-triggered, for reading and
 * writing both, so nothing is re-registered per wait).
 *
 * @module
 */

import type { EpollLoop, EpollWatcher } from "./_epoll_loop.ts";
import {
  EAGAIN,
  EINTR,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  errnoError,
  IPPROTO_TCP,
  libc,
  MSG_NOSIGNAL,
  TCP_NODELAY,
} from "./_libc.ts";
import type { ClientStream } from "./_types.ts";

const ONE = new Int32Array([1]);
const ZERO = new Int32Array([0]);
/** Where bytes that will never be read go. */
const SCRATCH = new Uint8Array(4096);

/** A connected socket (TCP or unix) as a {@linkcode ClientStream}. */
export class EpollStream implements ClientStream, EpollWatcher {
  #loop: EpollLoop;
  #fd: number;
  #tcp: boolean;
  /** Whether a read may find bytes: cleared when one finds fewer than it asked for. */
  #readable = true;
  #writable = true;
  /** The peer hung up or the socket failed: no edge follows, so every read tries. */
  #hungUp = false;
  #closed = false;
  #reader:
    | { buffer: Uint8Array; resolve(n: number | null): void; reject(e: unknown): void }
    | undefined;
  #writer:
    | { bytes: Uint8Array; resolve(n: number): void; reject(e: unknown): void }
    | undefined;

  /** Takes `fd` (non-blocking, accepted) into `loop`. */
  constructor(loop: EpollLoop, fd: number, tcp: boolean) {
    this.#loop = loop;
    this.#fd = fd;
    this.#tcp = tcp;
    loop.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const now = this.readNow(buffer);
    if (now !== undefined) return Promise.resolve(now);
    if (this.#reader !== undefined) throw new Error("A read is already waiting on this connection");
    return new Promise((resolve, reject) => this.#reader = { buffer, resolve, reject });
  }

  readNow(buffer: Uint8Array): number | null | undefined {
    if (this.#closed) return null;
    return this.#readable && this.#reader === undefined ? this.#recv(buffer) : undefined;
  }

  writeNow(bytes: Uint8Array): number | undefined {
    if (this.#closed || !this.#writable || this.#writer !== undefined) return undefined;
    return this.#send(bytes);
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("The connection is closed"));
    }
    const now = this.writeNow(bytes);
    if (now !== undefined) return Promise.resolve(now);
    if (this.#writer !== undefined) {
      throw new Error("A write is already waiting on this connection");
    }
    return new Promise((resolve, reject) => this.#writer = { bytes, resolve, reject });
  }

  /** A turn for the other connections: resolves once the loop has polled again. */
  turn(): Promise<void> {
    return this.#loop.turn();
  }

  setNoDelay(noDelay = true): void {
    // A unix socket has no Nagle to turn off.
    if (!this.#tcp) return;
    const { symbols, errno } = libc();
    if (symbols.setsockopt(this.#fd, IPPROTO_TCP, TCP_NODELAY, noDelay ? ONE : ZERO, 4) < 0) {
      throw errnoError(errno[0], "setsockopt");
    }
  }

  discardUnread(): void {
    const { symbols } = libc();
    // Bounded: a peer still sending is reset as memcached would reset it.
    for (let i = 0; i < 16 && symbols.recv(this.#fd, SCRATCH, SCRATCH.length, 0) > 0; i++);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.remove(this.#fd);
    libc().symbols.close(this.#fd);
    const reader = this.#reader, writer = this.#writer;
    this.#reader = this.#writer = undefined;
    reader?.resolve(null);
    writer?.reject(new Deno.errors.BadResource("The connection is closed"));
  }

  ready(events: number): void {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) this.#readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) this.#hungUp = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) this.#writable = true;
    const reader = this.#reader;
    if (reader !== undefined && this.#readable) {
      try {
        const n = this.#recv(reader.buffer);
        if (n !== undefined) {
          this.#reader = undefined;
          reader.resolve(n);
        }
      } catch (error) {
        this.#reader = undefined;
        reader.reject(error);
      }
    }
    const writer = this.#writer;
    if (writer !== undefined && this.#writable) {
      try {
        const n = this.#send(writer.bytes);
        if (n !== undefined) {
          this.#writer = undefined;
          writer.resolve(n);
        }
      } catch (error) {
        this.#writer = undefined;
        writer.reject(error);
      }
    }
  }

  /** Bytes read into `buffer`; null at the end; undefined when none are there yet. */
  #recv(buffer: Uint8Array): number | null | undefined {
    const { symbols, errno } = libc();
    for (;;) {
      const n = symbols.recv(this.#fd, buffer, buffer.length, 0);
      if (n > 0) {
        // A short read emptied the socket: the next bytes bring an edge.
        if (n < buffer.length && !this.#hungUp) this.#readable = false;
        return n;
      }
      if (n === 0) return null;
      const code = errno[0];
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        this.#readable = this.#hungUp;
        return undefined;
      }
      throw errnoError(code, "recv");
    }
  }

  /** Bytes of `bytes` sent; undefined when the socket takes none now. */
  #send(bytes: Uint8Array): number | undefined {
    const { symbols, errno } = libc();
    for (;;) {
      const n = symbols.send(this.#fd, bytes, bytes.length, MSG_NOSIGNAL);
      if (n >= 0) {
        // A short write filled the socket: room brings an edge.
        if (n < bytes.length) this.#writable = false;
        return n === 0 && bytes.length > 0 ? undefined : n;
      }
      const code = errno[0];
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        this.#writable = false;
        return undefined;
      }
      throw errnoError(code, "send");
    }
  }
}
