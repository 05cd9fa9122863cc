/**
 * memcached's `-vv` lines: `<id request` for each command as memcached
 * prints its command line, and `>id reply` for the replies memcached's
 * `out_string` logs (single-line replies; `NOREPLY` before the ones a
 * `noreply` silenced). Values, `stats` and meta replies other than errors
 * and `MN` are not logged, as memcached does not log them. The line is
 * rebuilt from the parsed request, so spacing and a line that did not parse
 * show differently.
 *
 * @module
 */

import type { Request } from "../protocol/requests.ts";

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

const noreply = (request: { noreply: boolean }) => request.noreply ? " noreply" : "";

/**
 * A request as memcached's `-vv` shows its command line. A line the parser
 * could not read has only its reply left to show.
 *
 * @param request The parsed request.
 * @returns The line, without `<id `.
 */
export function requestLine(request: Request): string {
  switch (request.type) {
    case "storage": {
      const { command, key, flags, exptime, data, cas } = request;
      const unique = command === "cas" ? ` ${cas}` : "";
      return `${command} ${latin1(key)} ${flags} ${exptime} ${data.length}${unique}${
        noreply(request)
      }`;
    }
    case "retrieval": {
      const exptime = request.command === "gat" || request.command === "gats"
        ? ` ${request.exptime}`
        : "";
      return `${request.command}${exptime} ${request.keys.map(latin1).join(" ")}`;
    }
    case "delete":
      return `delete ${latin1(request.key)}${noreply(request)}`;
    case "touch":
      return `touch ${latin1(request.key)} ${request.exptime}${noreply(request)}`;
    case "arithmetic":
      return `${request.command} ${latin1(request.key)} ${request.delta}${noreply(request)}`;
    case "flush_all":
      return `flush_all${request.delay === 0 ? "" : ` ${request.delay}`}${noreply(request)}`;
    case "verbosity":
      return `verbosity ${request.level}${noreply(request)}`;
    case "stats":
    case "shutdown":
    case "slabs":
      return [request.type, ...request.args].join(" ");
    case "meta": {
      const size = request.command === "ms" ? [String(request.data.length)] : [];
      const key = request.key.length > 0 ? [latin1(request.key)] : [];
      return [request.command, ...key, ...size, ...request.flags.map(latin1)].join(" ");
    }
    case "cache_memlimit":
      return `cache_memlimit ${request.megabytes}${noreply(request)}`;
    case "invalid":
      return `(a line memcached answers ${request.reply})`;
    default:
      return request.type;
  }
}

/**
 * The reply line memcached's `out_string` logs for a request: the reply
 * written when it is one line and memcached logs it (not values, `stats`
 * groups or meta results), else `NOREPLY` and the reply a noreply silenced.
 *
 * @param request The request answered.
 * @param written The bytes of its reply.
 * @param silenced The reply noreply kept back, as bytes with CRLF or as text.
 * @returns The line without `>id `, or undefined when memcached logs none.
 */
export function replyLine(
  request: Request,
  written: Uint8Array,
  silenced: Uint8Array | string | undefined,
): string | undefined {
  if (written.length === 0) {
    if (silenced === undefined) return undefined;
    return `NOREPLY ${typeof silenced === "string" ? silenced : latin1(silenced.subarray(0, -2))}`;
  }
  const text = latin1(written);
  if (text.indexOf("\r\n") !== text.length - 2 || request.type === "stats") return undefined;
  const line = text.slice(0, -2);
  if (
    request.type === "meta" && request.command !== "mn" && !/^(CLIENT_|SERVER_)?ERROR/.test(line)
  ) {
    return undefined;
  }
  return line;
}

/**
 * memcached's line for each value a retrieval sends.
 *
 * @param key The value's key.
 * @returns The line without `>id `.
 */
export function sendingKeyLine(key: Uint8Array): string {
  return `sending key ${latin1(key)}`;
}
