/**
 * The text protocol over UDP (memcached's `-U <port>`): each datagram is an
 * 8-byte frame header (request id, sequence number, datagram count,
 * reserved) and whole requests. Every reply memcached builds as one
 * response (one per command, one per key of a multi-get, `END` on the last)
 * goes out as datagrams of at most 1400 bytes, each with the header
 * repeated, as memcached's `transmit_udp` sends them. Requests spread over
 * several datagrams are dropped, as memcached drops them.
 *
 * Runs on `node:dgram`, which Deno serves with `--allow-net` alone, where
 * `Deno.listenDatagram` would need `--unstable-net`.
 *
 * @module
 */

import dgram from "node:dgram";
import { ProtocolError } from "../protocol/errors.ts";
import { RequestParser } from "../protocol/request_parser.ts";
import type { RetrievalRequest } from "../protocol/requests.ts";
import { WriteBuffer } from "../protocol/write_buffer.ts";
import type { CommandHandler } from "./_commands.ts";
import type { ServerStats } from "./_stats.ts";
import type { ConnectionInfo } from "./_types.ts";

const HEADER_BYTES = 8;
/** memcached's UDP_DATA_SIZE: UDP_MAX_PAYLOAD_SIZE (1400) less the header. */
const DATA_BYTES = 1392;
const CR = 13;
const SPACE = 32;

/** What a UDP listener needs of the server's settings. */
export interface UdpSettings {
  maxItemSize: number;
  cas: boolean;
  verbosity: number;
}

/** One reply as memcached sends it: bytes, or nothing (a noreply's, which sends no datagram). */
type Reply = Uint8Array | "skip";

/** A bound UDP socket answering memcached's text protocol. */
export interface UdpListener {
  /** The address actually bound. */
  readonly addr: Deno.NetAddr;
  /** Stops answering and closes the socket. */
  close(): void;
}

/**
 * Binds `hostname:port` for UDP and answers each datagram against `handler`.
 *
 * @returns The listener once bound.
 * @throws {Error} When the port cannot be bound (node's `EADDRINUSE`, say).
 */
export function listenUdp(
  hostname: string,
  port: number,
  handler: CommandHandler,
  stats: ServerStats,
  settings: UdpSettings,
): Promise<UdpListener> {
  const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
  const name = `udp:${hostname}:${port}`;
  const info: ConnectionInfo = {
    id: 0,
    addr: name,
    listenAddr: name,
    lastCommandTime: stats.now(),
    state: "conn_read",
    sentMark: 0,
    requests: 0,
    yieldDue: false,
    // Datagrams have no connection to park or hand to the logger.
    parked: false,
    watch: 0,
  };
  socket.on("message", (message: Uint8Array, remote: { address: string; port: number }) => {
    stats.bytesRead += message.length;
    // memcached answers only a datagram with more than its header, and only a one-datagram request.
    if (message.length <= HEADER_BYTES || message[4] !== 0 || message[5] !== 1) return;
    info.lastCommandTime = stats.now();
    const replies = answer(message.subarray(HEADER_BYTES), handler, info, settings);
    for (const datagram of frame(message[0], message[1], replies)) {
      stats.bytesWritten += datagram.length;
      socket.send(datagram, remote.port, remote.address);
    }
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, hostname, () => {
      socket.off("error", reject);
      // A send that fails (the client's port gone) loses that reply only, as a datagram may.
      socket.on("error", (error: Error) => {
        if (settings.verbosity > 0) console.error(`${name}: ${error.message}`);
      });
      const bound = socket.address();
      resolve({
        addr: { transport: "udp", hostname: bound.address, port: bound.port },
        close: () => socket.close(),
      });
    });
  });
}

/** Runs every whole request in one datagram; a partial one at its end is dropped with the datagram. */
function answer(
  payload: Uint8Array,
  handler: CommandHandler,
  info: ConnectionInfo,
  settings: UdpSettings,
): Reply[] {
  const parser = new RequestParser({ maxItemSize: settings.maxItemSize, useCas: settings.cas });
  parser.push(payload);
  const out = new WriteBuffer();
  const replies: Reply[] = [];
  while (true) {
    let request;
    try {
      request = parser.next();
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // What closes a TCP connection ends the datagram here: the replies so far still go.
      if (settings.verbosity > 0) console.error(`udp: ${error.message}`);
      break;
    }
    if (request === undefined) break;
    out.clear();
    if (request.type === "retrieval") {
      for (let next = 0; next >= 0;) next = handler.retrieve(request, next, out, info);
      replies.push(...perKey(request, out.view().slice()));
    } else {
      handler.handle(request, out, info);
      replies.push(out.length === 0 ? "skip" : out.view().slice());
    }
  }
  parser.dispose();
  return replies;
}

/**
 * A multi-get's reply split as memcached builds it: one response per key,
 * empty for a miss, with what follows the last value (`END`) on the last key's.
 */
function perKey(request: RetrievalRequest, reply: Uint8Array): Uint8Array[] {
  const responses: Uint8Array[] = [];
  let at = 0;
  for (const key of request.keys) {
    const end = valueEnd(reply, at, key);
    responses.push(reply.subarray(at, end));
    at = end;
  }
  if (responses.length === 0) return [reply];
  const last = responses.length - 1;
  responses[last] = reply.subarray(at - responses[last].length);
  return responses;
}

/** Where the `VALUE <key> ...` block at `at` ends, or `at` when the block there is not for `key`. */
function valueEnd(reply: Uint8Array, at: number, key: Uint8Array): number {
  const keyAt = at + 6;
  if (reply[at] !== 0x56 || reply[keyAt + key.length] !== SPACE) return at;
  for (let i = 0; i < key.length; i++) if (reply[keyAt + i] !== key[i]) return at;
  const lineEnd = reply.indexOf(CR, keyAt + key.length);
  // VALUE <key> <flags> <bytes>[ <cas>]: the byte count is the fourth word.
  const words = new TextDecoder().decode(reply.subarray(at, lineEnd)).split(" ");
  return lineEnd + 2 + Number(words[3]) + 2;
}

/**
 * The datagrams for one batch of replies. As memcached's transmit_udp: each
 * reply numbered from 0 with its own count; an empty reply (a missed key)
 * sends a bare header with a count of 0 unless a reply was sent just before
 * it in the batch, whose completion takes it along.
 */
function* frame(idHigh: number, idLow: number, replies: Reply[]): Generator<Uint8Array> {
  let carried = false;
  for (const reply of replies) {
    if (reply === "skip") {
      carried = false;
      continue;
    }
    if (reply.length === 0 && carried) continue;
    const total = Math.min(Math.ceil(reply.length / DATA_BYTES), 0xffff);
    let sequence = 0;
    let at = 0;
    do {
      const chunk = reply.subarray(at, at + DATA_BYTES);
      const datagram = new Uint8Array(HEADER_BYTES + chunk.length);
      datagram.set([
        idHigh,
        idLow,
        (sequence >> 8) & 0xff,
        sequence & 0xff,
        total >> 8,
        total & 0xff,
      ]);
      datagram.set(chunk, HEADER_BYTES);
      yield datagram;
      sequence++;
      at += chunk.length;
    } while (at < reply.length);
    carried = true;
  }
}
