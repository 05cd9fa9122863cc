/**
 * The plain TCP and unix listeners of the epoll connection layer: sockets
 * made, bound and accepted from through libc, each accepted connection
 * handed over as an {@linkcode EpollStream} with the same names the
 * Deno.listen layer gives it. Out of file descriptors, a listener stops
 * accepting for memcached's 10 ms instead of spinning on the backlog.
 *
 * @module
 */

import type { EpollLoop, EpollWatcher } from "./_epoll_loop.ts";
import { EpollStream } from "./_epoll_stream.ts";
import {
  AF_UNIX,
  EAGAIN,
  ECONNABORTED,
  EINTR,
  EMFILE,
  ENFILE,
  ENOBUFS,
  ENOMEM,
  EPOLLIN,
  errnoError,
  libc,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "./_libc.ts";
import type { ListenSpec } from "./_listen_spec.ts";
import {
  type AcceptWatch,
  type Admit,
  isSocket,
  type Listener,
  OUT_OF_FDS_PAUSE_MS,
  tcpName,
  UNIX_CLIENT_NAME,
} from "./_listeners.ts";
import { netAddr, resolveBind, SOCKADDR_STORAGE, unixAddress } from "./_sockaddr.ts";

/** Connections one readiness event accepts before the other sockets get their turn. */
const ACCEPTS_PER_EVENT = 64;
const ONE = new Int32Array([1]);

/** Options for a listening socket. */
interface SocketOptions {
  /** The kernel's queue of connections not yet accepted (`-b`). */
  backlog: number;
  /** Shares the port with other sockets that set it too, the kernel spreading connections. */
  reusePort?: boolean;
}

/** A socket of `family`, bound to `address` and listening; closed again if any step fails. */
function listeningSocket(family: number, address: Uint8Array, options: SocketOptions): number {
  const { symbols, errno } = libc();
  const fd = symbols.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errnoError(errno[0], "socket");
  const fail = (call: string): never => {
    const error = errnoError(errno[0], call);
    symbols.close(fd);
    throw error;
  };
  if (family !== AF_UNIX) {
    // As Deno.listen and memcached: a restart binds at once over connections still in TIME_WAIT.
    if (symbols.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ONE, 4) < 0) fail("setsockopt");
    if (options.reusePort && symbols.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, ONE, 4) < 0) {
      fail("setsockopt");
    }
  }
  if (symbols.bind(fd, address, address.length) < 0) fail("bind");
  if (symbols.listen(fd, options.backlog) < 0) fail("listen");
  return fd;
}

/** The address `fd` is bound to. */
function boundAddr(fd: number): Deno.NetAddr {
  const { symbols, errno } = libc();
  const address = new Uint8Array(SOCKADDR_STORAGE);
  const length = new Uint32Array([SOCKADDR_STORAGE]);
  if (symbols.getsockname(fd, address, new Uint8Array(length.buffer)) < 0) {
    throw errnoError(errno[0], "getsockname");
  }
  return netAddr(address)!;
}

/** Accepts from one listening socket whenever the loop says a connection waits. */
class Acceptor implements EpollWatcher {
  readonly deferred = true;
  #loop: EpollLoop;
  #fd: number;
  #name: string;
  #tcp: boolean;
  #admit: Admit;
  #watch: AcceptWatch;
  #address = new Uint8Array(SOCKADDR_STORAGE);
  #length = new Uint32Array(1);
  #lengthBytes = new Uint8Array(this.#length.buffer);
  #paused = false;
  #resume: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #finish!: () => void;
  readonly done = new Promise<void>((resolve) => this.#finish = resolve);

  constructor(
    loop: EpollLoop,
    fd: number,
    name: string,
    tcp: boolean,
    admit: Admit,
    watch: AcceptWatch,
  ) {
    this.#loop = loop;
    this.#fd = fd;
    this.#name = name;
    this.#tcp = tcp;
    this.#admit = admit;
    this.#watch = watch;
    loop.add(fd, EPOLLIN, this);
  }

  ready(): void {
    const { symbols, errno } = libc();
    for (let i = 0; i < ACCEPTS_PER_EVENT && !this.#closed; i++) {
      this.#length[0] = SOCKADDR_STORAGE;
      const fd = symbols.accept4(
        this.#fd,
        this.#address,
        this.#lengthBytes,
        SOCK_NONBLOCK | SOCK_CLOEXEC,
      );
      if (fd < 0) {
        const code = errno[0];
        if (code === EAGAIN) return;
        // A client that left before its turn, or a signal: the next one may be there.
        if (code === EINTR || code === ECONNABORTED) continue;
        if (code === EMFILE || code === ENFILE || code === ENOBUFS || code === ENOMEM) {
          this.#pause();
          return;
        }
        this.#watch.log(`accept failed on ${this.#name}: ${errnoError(code, "accept4")}`);
        return;
      }
      if (this.#paused) {
        this.#paused = false;
        this.#watch.enabled();
      }
      const addr = this.#tcp ? netAddr(this.#address) : undefined;
      const remote = addr === undefined ? UNIX_CLIENT_NAME : tcpName(addr);
      let stream: EpollStream;
      try {
        stream = new EpollStream(this.#loop, fd, this.#tcp);
      } catch (error) {
        // The set takes no more sockets (epoll's max_user_watches): this client is dropped, told.
        symbols.close(fd);
        this.#watch.log(`accept failed on ${this.#name}: ${error}`);
        continue;
      }
      this.#admit(stream, remote, this.#name);
    }
  }

  /** Stops watching the socket for a while: it would report the same waiting connection at once. */
  #pause(): void {
    if (!this.#paused) {
      this.#paused = true;
      this.#watch.disabled();
      // memcached's -v line, once for each time accepting stops.
      this.#watch.log("Too many open connections");
    }
    this.#loop.modify(this.#fd, 0);
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      if (!this.#closed) this.#loop.modify(this.#fd, EPOLLIN);
    }, OUT_OF_FDS_PAUSE_MS);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#resume);
    this.#loop.remove(this.#fd);
    libc().symbols.close(this.#fd);
    if (this.#paused) this.#watch.enabled();
    this.#finish();
  }
}

/**
 * A plain TCP listener on the epoll loop, bound at once.
 *
 * @throws {Deno.errors.AddrInUse} And the other errors of socket, bind and listen.
 */
export function listenTcpEpoll(
  loop: EpollLoop,
  spec: ListenSpec,
  admit: Admit,
  watch: AcceptWatch,
  options: SocketOptions,
): Listener {
  const address = resolveBind(spec.hostname, spec.port);
  const family = new DataView(address.buffer).getUint16(0, true);
  const fd = listeningSocket(family, address, options);
  let addr: Deno.NetAddr;
  try {
    addr = boundAddr(fd);
  } catch (error) {
    libc().symbols.close(fd);
    throw error;
  }
  const name = tcpName(addr);
  const acceptor = new Acceptor(loop, fd, name, true, admit, watch);
  return { name, addr, close: () => acceptor.close(), done: acceptor.done };
}

/**
 * A unix socket listener on the epoll loop with mode `mask` (memcached's `-a`), bound at once.
 *
 * @throws {Deno.errors.AddrInUse} And the other errors of socket, bind, listen and chmod.
 */
export function listenUnixEpoll(
  loop: EpollLoop,
  path: string,
  mask: number,
  admit: Admit,
  watch: AcceptWatch,
  backlog: number,
): Listener {
  // An existing socket file is replaced, as memcached replaces it; any other file is left and refused.
  if (isSocket(path)) Deno.removeSync(path);
  const fd = listeningSocket(AF_UNIX, unixAddress(path), { backlog });
  try {
    Deno.chmodSync(path, mask & 0o777);
  } catch (error) {
    libc().symbols.close(fd);
    throw error;
  }
  const name = `unix:${path}`;
  const acceptor = new Acceptor(loop, fd, name, false, admit, watch);
  const close = () => {
    acceptor.close();
    // As Deno.listen's unix listener: the socket file goes with it, leaving the path to the next start.
    if (isSocket(path)) Deno.removeSync(path);
  };
  return { name, addr: undefined, close, done: acceptor.done };
}
