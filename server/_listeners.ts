/**
 * The sockets a server listens on, as memcached's `-l`, `-Z` and `-s` set
 * them: plain TCP through `Deno.listen`, TLS through `node:tls` (the only
 * server here that verifies client certificates), or a unix socket with
 * `-a`'s mode. Each accepted connection is handed over as a byte stream with
 * the names `stats conns` gives it and its listener.
 *
 * @module
 */

import type { ListenSpec } from "./_listen_spec.ts";
import { NodeSocketStream } from "./_node_socket_stream.ts";
import type { ServerTls } from "./_tls.ts";
import type { ClientStream } from "./_types.ts";

/** A connection a listener accepted: its bytes, and where it came from and to. */
export type Admit = (stream: ClientStream, remote: string, local: string) => void;

/** What the accept loops report besides connections. */
export interface AcceptWatch {
  /** A line for the log, shown with `-v`. */
  log(line: string): void;
  /** A listener stops accepting until file descriptors free up (memcached's `accept_new_conns(false)`). */
  disabled(): void;
  /** That listener accepts again. */
  enabled(): void;
}

/** How long an accept loop out of file descriptors waits before trying again: memcached's 10 ms. */
export const OUT_OF_FDS_PAUSE_MS = 10;

/** One listening socket. */
export interface Listener {
  /** memcached's name for it in `stats conns`: `tcp:host:port` or `unix:/path`. */
  readonly name: string;
  /** Its TCP address; undefined for a unix socket. */
  readonly addr: Deno.NetAddr | undefined;
  /** Stops accepting. */
  close(): void;
  /** Settles once its accept loop has ended. */
  readonly done: Promise<void>;
}

export function tcpName(addr: Deno.NetAddr): string {
  return `tcp:${addr.hostname}:${addr.port}`;
}

/** memcached's name for a unix socket's client, which has no address. */
export const UNIX_CLIENT_NAME = "?:<AF 0>";

function remoteName(addr: Deno.Addr): string {
  return addr.transport === "unix" || addr.transport === "unixpacket"
    ? UNIX_CLIENT_NAME
    : tcpName(addr as Deno.NetAddr);
}

/** accept() failed for want of a file descriptor, the process's (EMFILE) or the system's (ENFILE). */
function outOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/**
 * Accepts from a Deno listener (TCP or unix) until it closes. Out of file
 * descriptors it pauses and retries, as memcached does, rather than spin on
 * an accept that fails at once while connections wait in the backlog.
 */
function acceptLoop(
  listener: Deno.Listener,
  name: string,
  admit: Admit,
  watch: AcceptWatch,
): Promise<void> {
  return (async () => {
    let paused = false;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
          if (paused) watch.enabled();
          return;
        }
        if (outOfDescriptors(error)) {
          if (!paused) {
            paused = true;
            watch.disabled();
            // memcached's -v line, once for each time accepting stops.
            watch.log("Too many open connections");
          }
          await new Promise((resolve) => setTimeout(resolve, OUT_OF_FDS_PAUSE_MS));
          continue;
        }
        watch.log(`accept failed on ${name}: ${error}`);
        continue;
      }
      if (paused) {
        paused = false;
        watch.enabled();
      }
      admit(conn, remoteName(conn.remoteAddr), name);
    }
  })();
}

/**
 * A plain TCP listener, bound at once.
 *
 * @throws {Deno.errors.AddrInUse} And the other errors of `Deno.listen`.
 */
export function listenTcp(
  spec: ListenSpec,
  admit: Admit,
  watch: AcceptWatch,
  backlog: number,
): Listener {
  const listener = Deno.listen({ hostname: spec.hostname, port: spec.port, tcpBacklog: backlog });
  const addr = listener.addr as Deno.NetAddr;
  const name = tcpName(addr);
  return {
    name,
    addr,
    close: () => closeQuietly(listener),
    done: acceptLoop(listener, name, admit, watch),
  };
}

/**
 * A unix socket listener with mode `mask` (memcached's `-a`), bound at once.
 *
 * @throws {Deno.errors.AddrInUse} And the other errors of `Deno.listen` and `Deno.chmod`.
 */
export function listenUnix(
  path: string,
  mask: number,
  admit: Admit,
  watch: AcceptWatch,
): Listener {
  // An existing socket file is replaced, as memcached replaces it; any other file is left and refused.
  if (isSocket(path)) Deno.removeSync(path);
  const listener = Deno.listen({ transport: "unix", path });
  try {
    Deno.chmodSync(path, mask & 0o777);
  } catch (error) {
    listener.close();
    throw error;
  }
  const name = `unix:${path}`;
  return {
    name,
    addr: undefined,
    close: () => closeQuietly(listener),
    done: acceptLoop(listener, name, admit, watch),
  };
}

export function isSocket(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSocket === true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * A TLS listener. `node:tls` binds after a turn of the event loop, so its
 * address is known once `bound` settles.
 */
export function listenTls(
  spec: ListenSpec,
  serverTls: ServerTls,
  admit: Admit,
  backlog: number,
): { bound: Promise<Listener> } {
  let name = "";
  const listening = serverTls.createServer((socket) => {
    const remote = `tcp:${socket.remoteAddress}:${socket.remotePort}`;
    admit(new NodeSocketStream(socket, serverTls.settings.writeBufferSize), remote, name);
  });
  const done = new Promise<void>((resolve) => {
    listening.on("close", () => resolve());
    listening.on("error", () => resolve());
  });
  const bound = new Promise<Listener>((resolve, reject) => {
    listening.once("error", reject);
    listening.listen({ port: spec.port, host: spec.hostname, backlog }, () => {
      listening.off("error", reject);
      const { address, port } = listening.address() as { address: string; port: number };
      const addr: Deno.NetAddr = { transport: "tcp", hostname: address, port };
      name = tcpName(addr);
      resolve({ name, addr, close: () => listening.close(), done });
    });
  });
  return { bound };
}

function closeQuietly(listener: Deno.Listener): void {
  try {
    listener.close();
  } catch (error) {
    // Closed already, by a failed accept: nothing is left to close.
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}
