/**
 * A `node:tls` socket as the connection loop reads and writes a Deno
 * connection: `read` into a buffer, `write` resolved once the bytes are
 * handed to the socket, so the loop's backpressure works unchanged.
 *
 * @module
 */

import type tls from "node:tls";
import type { ClientStream } from "./_types.ts";

/** Past this many unread bytes the socket is paused, as a client that sends and never waits. */
const HIGH_WATER = 256 * 1024;
/** How long a closing connection may take to hand over its last bytes and close_notify. */
const CLOSE_GRACE_MS = 1000;

/** A `node:tls` socket as a {@linkcode ClientStream}. */
export class NodeSocketStream implements ClientStream {
  #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #waiter:
    | { buffer: Uint8Array; resolve(n: number | null): void; reject(e: Error): void }
    | undefined;

  #maxWrite: number;

  /**
   * Reads `socket` from now on.
   *
   * @param maxWrite The most bytes one write hands to TLS (`ssl_wbuf_size`, as memcached's SSL_write takes them).
   */
  constructor(socket: tls.TLSSocket, maxWrite: number) {
    this.#socket = socket;
    this.#maxWrite = Math.max(1, maxWrite);
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > HIGH_WATER) socket.pause();
      this.#wake();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
      this.#wake();
    });
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#take(buffer));
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#waiter = { buffer, resolve, reject });
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const chunk = bytes.subarray(0, this.#maxWrite);
    return new Promise((resolve, reject) => {
      // The bytes belong to the caller's buffer: resolved once the socket has taken them.
      this.#socket.write(chunk, (error?: Error | null) => {
        if (error) reject(error);
        else resolve(chunk.length);
      });
    });
  }

  close(): void {
    // close_notify first, as memcached's SSL_shutdown sends it; a peer that never reads loses the socket a second later.
    const socket = this.#socket;
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    Deno.unrefTimer(timer);
    socket.end(() => {
      clearTimeout(timer);
      socket.destroy();
    });
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  /** Copies buffered bytes into `buffer`, as many as fit. */
  #take(buffer: Uint8Array): number {
    let n = 0;
    while (n < buffer.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const count = Math.min(chunk.length, buffer.length - n);
      buffer.set(chunk.subarray(0, count), n);
      n += count;
      if (count === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(count);
    }
    this.#buffered -= n;
    if (this.#buffered <= HIGH_WATER && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    if (this.#chunks.length > 0) waiter.resolve(this.#take(waiter.buffer));
    else if (this.#error !== undefined) waiter.reject(this.#error);
    else waiter.resolve(null);
  }
}
