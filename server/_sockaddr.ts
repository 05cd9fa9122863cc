/**
 * Socket addresses as libc takes and gives them (`struct sockaddr_in`,
 * `sockaddr_in6`, `sockaddr_un`), turned to and from the hostnames and ports
 * Deno's own sockets report, so the names in `stats conns` do not depend on
 * the connection layer.
 *
 * @module
 */

import { AF_INET, AF_INET6, AF_UNIX, AI_PASSIVE, libc, SOCK_STREAM } from "./_libc.ts";

/** Room for any address accept4 and getsockname return (`sizeof(struct sockaddr_storage)`). */
export const SOCKADDR_STORAGE = 128;

const encoder = new TextEncoder();

function cString(text: string): Uint8Array {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/**
 * The address `hostname` and `port` bind to, resolved as `Deno.listen`
 * resolves them: getaddrinfo's first answer, so a name and `[::1]` work too.
 *
 * @throws {Error} With getaddrinfo's words when the name does not resolve.
 */
export function resolveBind(hostname: string, port: number): Uint8Array {
  const { symbols } = libc();
  const hints = new Uint8Array(48);
  const view = new DataView(hints.buffer);
  view.setInt32(0, AI_PASSIVE, true);
  view.setInt32(8, SOCK_STREAM, true);
  const result = new BigUint64Array(1);
  const status = symbols.getaddrinfo(
    cString(hostname),
    cString(String(port)),
    hints,
    new Uint8Array(result.buffer),
  );
  if (status !== 0) {
    const words = Deno.UnsafePointerView.getCString(symbols.gai_strerror(status)!);
    throw new Error(`${words}: ${hostname}:${port}`);
  }
  const first = Deno.UnsafePointer.create(result[0])!;
  try {
    const info = new Deno.UnsafePointerView(first);
    const length = info.getUint32(16);
    const addr = new Deno.UnsafePointerView(info.getPointer(24)!);
    const bytes = new Uint8Array(length);
    addr.copyInto(bytes);
    return bytes;
  } finally {
    symbols.freeaddrinfo(first);
  }
}

/** A unix socket's address: `sockaddr_un` with the path, and its length. */
export function unixAddress(path: string): Uint8Array {
  const name = encoder.encode(path);
  // sun_path holds 108 bytes with its terminating NUL.
  if (name.length >= 108) throw new RangeError(`The unix socket path is too long: ${path}`);
  const bytes = new Uint8Array(2 + name.length + 1);
  new DataView(bytes.buffer).setUint16(0, AF_UNIX, true);
  bytes.set(name, 2);
  return bytes;
}

/** The hostname and port in `sockaddr`, as Deno writes them; undefined for a unix socket. */
export function netAddr(sockaddr: Uint8Array): Deno.NetAddr | undefined {
  const view = new DataView(sockaddr.buffer, sockaddr.byteOffset, sockaddr.byteLength);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET) {
    return { transport: "tcp", hostname: sockaddr.subarray(4, 8).join("."), port };
  }
  if (family === AF_INET6) {
    return { transport: "tcp", hostname: ipv6Text(sockaddr.subarray(8, 24)), port };
  }
  return undefined;
}

/** An IPv6 address in RFC 5952's short form, an IPv4-mapped one with its dotted tail. */
function ipv6Text(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes[i] << 8 | bytes[i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.subarray(12, 16).join(".")}`;
  }
  // The longest run of two or more zero groups becomes "::".
  let bestStart = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}
