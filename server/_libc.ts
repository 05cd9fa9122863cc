/**
 * The few libc calls the epoll connection layer makes, through Deno's FFI:
 * sockets, epoll and an eventfd, with errno read the way C reads it. Loaded
 * on first use, and only where {@linkcode epollUnavailable} finds nothing missing: Linux on
 * x86_64, with `--allow-ffi` granted.
 *
 * @module
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  // ssize_t results read as i32: an isize result would come back as a BigInt, at ~110 ns a call.
  recv: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  // The same call on a thread of its own, so an idle loop leaves the isolate to timers and callers.
  epoll_wait_blocking: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  getaddrinfo: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
  gai_strerror: { parameters: ["i32"], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The bound libc functions. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Linux x86_64 numbers: the layouts and constants below hold there only. */
export const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
export const SOCK_STREAM = 1, SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_REUSEPORT = 15;
export const IPPROTO_TCP = 6, TCP_NODELAY = 1;
export const MSG_NOSIGNAL = 0x4000;
export const EINTR = 4, EAGAIN = 11, EMFILE = 24, ENFILE = 23, ENOBUFS = 105, ENOMEM = 12;
export const ECONNABORTED = 103;
export const EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10;
export const EPOLLRDHUP = 0x2000, EPOLLET = 0x8000_0000;
export const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
/** `struct epoll_event` is packed on x86_64: 4 bytes of events, 8 of data. */
export const EPOLL_EVENT_SIZE = 12;
export const AI_PASSIVE = 1;

/** A server asked for the epoll layer where it cannot run. */
export class ConnectionLayerError extends Error {
  override name = "ConnectionLayerError";
}

/** Why this process cannot drive sockets through libc's epoll; undefined when it can. */
export function epollUnavailable(): string | undefined {
  const ffi = Deno.permissions.querySync({ name: "ffi" }).state;
  if (Deno.build.os === "linux" && Deno.build.arch === "x86_64" && ffi === "granted") {
    return undefined;
  }
  return "The epoll connection layer needs Linux on x86_64 and --allow-ffi: " +
    `this is ${Deno.build.os} on ${Deno.build.arch}, with ffi ${ffi}`;
}

let library: { symbols: Libc; errno: Int32Array } | undefined;

/** libc, loaded once per isolate (errno is per thread, and so is this view of it). */
export function libc(): { symbols: Libc; errno: Int32Array } {
  if (library === undefined) {
    const lib = Deno.dlopen("libc.so.6", SYMBOLS);
    // Read through a typed array: UnsafePointerView.getInt32 costs ~175 ns a call.
    const errno = new Int32Array(
      Deno.UnsafePointerView.getArrayBuffer(lib.symbols.__errno_location()!, 4),
    );
    library = { symbols: lib.symbols, errno };
  }
  return library;
}

/** The C name of each errno the socket calls meet, and the `Deno.errors` class Deno raises for it. */
const ERRNOS: Record<number, [string, (new (message: string) => Error)?]> = {
  1: ["EPERM", Deno.errors.PermissionDenied],
  2: ["ENOENT", Deno.errors.NotFound],
  4: ["EINTR"],
  9: ["EBADF"],
  11: ["EAGAIN"],
  12: ["ENOMEM"],
  13: ["EACCES", Deno.errors.PermissionDenied],
  22: ["EINVAL"],
  23: ["ENFILE"],
  24: ["EMFILE"],
  32: ["EPIPE", Deno.errors.BrokenPipe],
  98: ["EADDRINUSE", Deno.errors.AddrInUse],
  99: ["EADDRNOTAVAIL", Deno.errors.AddrNotAvailable],
  103: ["ECONNABORTED"],
  104: ["ECONNRESET", Deno.errors.ConnectionReset],
  105: ["ENOBUFS"],
  107: ["ENOTCONN", Deno.errors.NotConnected],
  110: ["ETIMEDOUT", Deno.errors.TimedOut],
  111: ["ECONNREFUSED"],
};

/**
 * The error a failed call with `errno` raises, as Deno's own socket calls
 * raise it: the matching `Deno.errors` class where there is one, with the
 * C name in `code` and strerror's words in the message.
 */
export function errnoError(errno: number, call: string): Error {
  const { symbols } = libc();
  const words = Deno.UnsafePointerView.getCString(symbols.strerror(errno)!);
  const [code = `E${errno}`, Class = Error] = ERRNOS[errno] ?? [];
  const error = new Class(`${words} (os error ${errno}): ${call}`);
  Object.defineProperty(error, "code", { value: code });
  return error;
}
