// The one reusable read buffer a parser owns: unread bytes live in
// buf[start, end). New bytes go to the end; before the buffer grows, unread
// bytes are compacted to the front, and it grows by doubling only when they
// still do not fit. Views handed out by a parser point into this buffer and
// stay valid until the next push or reserve. A newline byte is kept just
// past the unread bytes (when there is room), so a search for the end of an
// incomplete line stops there instead of running through the stale rest of
// the buffer.

const INITIAL_SIZE = 16 * 1024;

export class ReadBuffer {
  buf: Uint8Array = new Uint8Array(INITIAL_SIZE);
  start = 0;
  end = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** Room for at least `n` more bytes at the end; returns the writable tail. */
  reserve(n: number): Uint8Array {
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    if (this.buf.length - this.end < n) {
      const unread = this.end - this.start;
      if (this.buf.length - unread >= n && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        // Doubling for lines; a large data block gets exactly its size, not up to twice it.
        let size = this.buf.length * 2;
        if (size - unread < n) size = unread + n;
        const grown = new Uint8Array(size);
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = unread;
      this.#stop();
    }
    return this.buf.subarray(this.end);
  }

  /** Marks `n` bytes written into the tail `reserve` returned. */
  commit(n: number): void {
    if (n < 0 || this.end + n > this.buf.length) {
      throw new RangeError(`Cannot commit ${n} bytes: only ${this.buf.length - this.end} reserved`);
    }
    this.end += n;
    this.#stop();
  }

  push(chunk: Uint8Array): void {
    this.reserve(chunk.length).set(chunk);
    this.end += chunk.length;
    this.#stop();
  }

  /** Puts the newline that ends a search just past the unread bytes. */
  #stop(): void {
    if (this.end < this.buf.length) this.buf[this.end] = 0x0a;
  }

  /** Drops `n` unread bytes from the front. */
  skip(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Index of the first `\n` at or after `from`, or -1. */
  indexOfNewline(from: number): number {
    // The newline at `end` (or the buffer's end) bounds the search.
    const i = this.buf.indexOf(0x0a, from);
    return i < this.end ? i : -1;
  }

  /** Gives memory back after a large value, once nothing is buffered. */
  shrink(): void {
    if (this.start === this.end && this.buf.length > INITIAL_SIZE * 4) this.release();
  }

  /** Frees the memory at once for a reader that is done; any view handed out is emptied. */
  free(): void {
    // A dropped buffer would wait for a garbage collection, which an idle server may never run.
    (this.buf.buffer as ArrayBuffer).transfer(0);
    this.buf = new Uint8Array(0);
    this.start = 0;
    this.end = 0;
  }

  /** Drops what is buffered and the memory past the initial size. */
  release(): void {
    if (this.buf.length > INITIAL_SIZE) this.buf = new Uint8Array(INITIAL_SIZE);
    this.start = 0;
    this.end = 0;
  }
}
