/**
 * A raw wire client for server tests: sends bytes, reads until the reply ends
 * the way the test expects.
 *
 * @module
 */

/** Bytes as a string of one char per byte (TextDecoder's "latin1" is windows-1252). */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** One connection to a server under test; closed with `using`. */
export class Wire implements Disposable {
  #conn: Deno.Conn;
  #pending = "";

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<Wire> {
    return new Wire(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects to 127.0.0.1:`port` over TLS, trusting `caCerts`, with a client certificate if given. */
  static async connectTls(
    port: number,
    tls: { caCerts: string[]; cert?: string; key?: string },
  ): Promise<Wire> {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, ...tls });
    await conn.handshake();
    return new Wire(conn);
  }

  /** Writes the text's bytes (Latin-1, so any byte can be written). */
  async send(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? Uint8Array.from(text, (c) => c.charCodeAt(0)) : text;
    for (let sent = 0; sent < bytes.length;) sent += await this.#conn.write(bytes.subarray(sent));
  }

  /** Reads until the received text ends with `end`; returns it (Latin-1). Fails after `timeoutMs`. */
  async readUntil(end: string, timeoutMs = 5000): Promise<string> {
    const buf = new Uint8Array(64 * 1024);
    const deadline = Date.now() + timeoutMs;
    while (!this.#pending.endsWith(end)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Cannot read reply: no "${JSON.stringify(end)}" in ${
            JSON.stringify(this.#pending.slice(-200))
          }`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#conn.read(buf),
        new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left)),
      ]);
      clearTimeout(timer);
      if (n === "timeout") continue;
      if (n === null) {
        throw new Error(`Cannot read reply: closed after ${JSON.stringify(this.#pending)}`);
      }
      this.#pending += latin1(buf.subarray(0, n));
    }
    const out = this.#pending;
    this.#pending = "";
    return out;
  }

  /** Sends a request and reads its reply, which ends with `end` (default CRLF). */
  async call(text: string, end = "\r\n"): Promise<string> {
    await this.send(text);
    return await this.readUntil(end);
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async closedByPeer(timeoutMs = 2000): Promise<boolean> {
    const buf = new Uint8Array(1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      this.#conn.read(buf).catch(() => null),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs)),
    ]);
    clearTimeout(timer);
    return result === null;
  }

  /** What the server sends until it closes the connection; fails if it has not closed within `timeoutMs`. */
  async readToClose(timeoutMs = 2000): Promise<string> {
    const buf = new Uint8Array(64 * 1024);
    const deadline = Date.now() + timeoutMs;
    let text = this.#pending;
    this.#pending = "";
    while (true) {
      const left = deadline - Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#conn.read(buf).catch(() => null),
        new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), Math.max(0, left))),
      ]);
      clearTimeout(timer);
      if (n === null) return text;
      if (n === "timeout") {
        throw new Error(`Cannot see a close: still open after ${JSON.stringify(text)}`);
      }
      text += latin1(buf.subarray(0, n));
    }
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
