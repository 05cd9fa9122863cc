/**
 * A raw TCP server for the client's failure tests, standing in for a server
 * that closes, stalls or answers out of step: each connection it accepts is
 * handed to a handler of the test's.
 *
 * @module
 */

/** A listener on a free loopback port; stopped, with every connection it took, by `await using`. */
export interface FakePeer extends AsyncDisposable {
  readonly port: number;
  /** How many connections it has accepted. */
  readonly accepted: number;
}

/** Reads one chunk as text: null once the client has closed. */
export async function readText(conn: Deno.Conn): Promise<string | null> {
  const buf = new Uint8Array(64 * 1024);
  const n = await conn.read(buf);
  return n === null ? null : new TextDecoder().decode(buf.subarray(0, n));
}

/** Writes text whole. */
export async function writeText(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
}

/**
 * Listens on 127.0.0.1, port 0, and runs `handle` on each connection, the
 * first numbered 0. A handler that returns leaves its connection open until
 * the peer stops; errors from a connection the client closed end the handler.
 */
export function fakePeer(handle: (conn: Deno.Conn, index: number) => Promise<void>): FakePeer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const handlers: Promise<void>[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      handlers.push(
        handle(conn, conns.length - 1).catch((error) => {
          // The client closing its end is how most of these exchanges finish.
          if (
            !(error instanceof Deno.errors.BadResource ||
              error instanceof Deno.errors.ConnectionReset ||
              error instanceof Deno.errors.Interrupted)
          ) {
            throw error;
          }
        }),
      );
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return conns.length;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by its handler */ }
      }
      await loop.catch(() => {});
      await Promise.all(handlers);
    },
  };
}
