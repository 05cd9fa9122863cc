/**
 * memcached's `-l` list: addresses separated by `,` or `;`, each `host`,
 * `host:port`, `[ipv6]` or `[ipv6]:port` (`*` for every interface), and with
 * TLS on, `notls:` before one that stays plain.
 *
 * @module
 */

/** One address to listen on. */
export interface ListenSpec {
  /** The interface's address; `0.0.0.0` for memcached's `*`. */
  hostname: string;
  /** The TCP port. */
  port: number;
  /** Whether it speaks TLS (`-Z`, unless `notls:`). */
  tls: boolean;
}

const NOTLS = "notls:";

/**
 * Reads a `-l` list as memcached's server_sockets does.
 *
 * @param list The addresses, as `-l` takes them.
 * @param port The port of an address that names none (`-p`).
 * @param tls Whether TLS is on (`-Z`).
 * @returns One spec per address, in order.
 * @throws {RangeError} With memcached's message, for `notls:` without TLS or a bad address or port.
 */
export function parseListenList(list: string, port: number, tls: boolean): ListenSpec[] {
  const specs: ListenSpec[] = [];
  for (let item of list.split(/[;,]/)) {
    if (item === "") continue;
    let secure = tls;
    if (item.startsWith("notls")) {
      if (!tls) throw new RangeError("'notls' option is valid only when SSL is enabled");
      secure = false;
      item = item.slice(NOTLS.length);
    }
    let host = item;
    let bracketed = false;
    if (host.startsWith("[")) {
      const end = host.indexOf("]");
      if (end < 0) throw new RangeError(`Invalid IPV6 address: "${item}"`);
      bracketed = true;
      host = item.slice(1, end);
      item = item.slice(end + 1);
    }
    let itemPort = port;
    const colon = item.indexOf(":");
    // Without brackets, a second colon means an IPv6 address with no port.
    if (colon >= 0 && (bracketed || item.indexOf(":", colon + 1) < 0)) {
      const text = item.slice(colon + 1);
      if (!/^[+-]?\d+$/.test(text.trim()) || Math.abs(Number(text)) > 0x7fff_ffff) {
        throw new RangeError(`Invalid port number: "${text}"`);
      }
      itemPort = Number(text);
      if (!bracketed) host = item.slice(0, colon);
    }
    if (itemPort < 0 || itemPort > 0xffff) {
      throw new RangeError(`Invalid port number: "${itemPort}"`);
    }
    specs.push({ hostname: host === "*" ? "0.0.0.0" : host, port: itemPort, tls: secure });
  }
  return specs;
}
