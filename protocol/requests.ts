/**
 * The requests of memcached's text and meta protocols, as the request parser
 * gives them and the request encoder writes them: one type per command.
 *
 * @module
 */

import type { ReplyName } from "./replies.ts";

/** The commands that carry a data block. */
export type StorageCommand = "set" | "add" | "replace" | "append" | "prepend" | "cas";
/** The commands that fetch items. */
export type RetrievalCommand = "get" | "gets" | "gat" | "gats";
/** The meta commands. */
export type MetaCommand = "mg" | "ms" | "md" | "ma" | "mn" | "me";
/**
 * What became of a data block: read whole and ended by CRLF (`ok`), refused
 * because the item would exceed the item size limit (`too_large`) or because
 * the parser's budget for unfinished blocks was spent (`no_memory`), each
 * given once its bytes are skipped unread, or read whole but not ended by
 * CRLF (`bad_chunk`).
 */
export type DataStatus = "ok" | "too_large" | "no_memory" | "bad_chunk";

/** `set add replace append prepend cas <key> <flags> <exptime> <bytes> [<cas>] [noreply]` and its data. */
export interface StorageRequest {
  /** The kind of frame. */
  readonly type: "storage";
  /** The command word. */
  readonly command: StorageCommand;
  /** The key bytes. */
  readonly key: Uint8Array;
  /** 32-bit client flags, opaque to the server. */
  readonly flags: number;
  /** The exptime as sent: 0 never, up to 30 days relative, above that a Unix time, negative expired. */
  readonly exptime: number;
  /** The cas unique for `cas`; 0 for the others. */
  readonly cas: bigint;
  /** The line ended in `noreply`: the server sends no reply. */
  readonly noreply: boolean;
  /** The value, without its CRLF; empty unless `status` is `ok`. */
  readonly data: Uint8Array;
  /** What became of the data block. */
  readonly status: DataStatus;
}

/** `get gets <key>*` and `gat gats <exptime> <key>*`. */
export interface RetrievalRequest {
  /** The kind of frame. */
  readonly type: "retrieval";
  /** The command word. */
  readonly command: RetrievalCommand;
  /** The keys in order; those before an over-long key when `badKey` is set. */
  readonly keys: Uint8Array[];
  /** The new exptime for `gat`/`gats`; 0 for `get`/`gets`. */
  readonly exptime: number;
  /** A key over 250 bytes followed `keys`: the reply ends with `CLIENT_ERROR bad command line format` instead of `END`. */
  readonly badKey: boolean;
}

/** `delete <key> [0] [noreply]`. */
export interface DeleteRequest {
  /** The kind of frame. */
  readonly type: "delete";
  /** The key bytes. */
  readonly key: Uint8Array;
  /** The line ended in `noreply`: the server sends no reply. */
  readonly noreply: boolean;
}

/** `incr decr <key> <delta> [noreply]`. */
export interface ArithmeticRequest {
  /** The kind of frame. */
  readonly type: "arithmetic";
  /** The command word. */
  readonly command: "incr" | "decr";
  /** The key bytes. */
  readonly key: Uint8Array;
  /** The 64-bit unsigned delta. */
  readonly delta: bigint;
  /** The line ended in `noreply`: the server sends no reply. */
  readonly noreply: boolean;
}

/** `touch <key> <exptime> [noreply]`. */
export interface TouchRequest {
  /** The kind of frame. */
  readonly type: "touch";
  /** The key bytes. */
  readonly key: Uint8Array;
  /** The exptime as sent. */
  readonly exptime: number;
  /** The line ended in `noreply`: the server sends no reply. */
  readonly noreply: boolean;
}

/** `flush_all [delay] [noreply]`. */
export interface FlushAllRequest {
  /** The kind of frame. */
  readonly type: "flush_all";
  /** Seconds (or a Unix time) until the flush; 0 for now. */
  readonly delay: number;
  /** The line ended in `noreply`: the server sends no reply. */
  readonly noreply: boolean;
}

/** `stats [group ...]`. */
export interface StatsRequest {
  /** The kind of frame. */
  readonly type: "stats";
  /** The words after `stats`, byte for byte as Latin-1 strings. */
  readonly args: string[];
}

/** `version`. */
export interface VersionRequest {
  /** The kind of frame. */
  readonly type: "version";
}

/** `verbosity <level> [noreply]`. */
export interface VerbosityRequest {
  /** The kind of frame. */
  readonly type: "verbosity";
  /** The verbosity level. */
  readonly level: number;
  /** The line ended in `noreply`: the server sends no reply. */
  readonly noreply: boolean;
}

/** `quit`. */
export interface QuitRequest {
  /** The kind of frame. */
  readonly type: "quit";
}

/** `shutdown [graceful]`. */
export interface ShutdownRequest {
  /** The kind of frame. */
  readonly type: "shutdown";
  /** The words after `shutdown`, as Latin-1 strings. */
  readonly args: string[];
}

/** `refresh_certs [noreply]`: reread the TLS certificates. */
export interface RefreshCertsRequest {
  /** The kind of frame. */
  readonly type: "refresh_certs";
  /** The line ended in `noreply`: the server sends no `OK` (errors still go). */
  readonly noreply: boolean;
}

/** `cache_memlimit <megabytes> [noreply]`: change the memory limit live. */
export interface CacheMemlimitRequest {
  /** The kind of frame. */
  readonly type: "cache_memlimit";
  /** The new limit in megabytes, or -1 when memcached cannot read the number. */
  readonly megabytes: number;
  /** The line ended in `noreply`: the server sends no reply, errors included. */
  readonly noreply: boolean;
}

/** `slabs reassign <src> <dst>` or `slabs automove <0|1|2>`, and their malformed kin. */
export interface SlabsRequest {
  /** The kind of frame. */
  readonly type: "slabs";
  /** The words after `slabs`, as Latin-1 strings. */
  readonly args: string[];
}

/** `lru_crawler <subcommand> [arg]`: run or tune memcached's LRU crawler. */
export interface LruCrawlerRequest {
  /** The kind of frame. */
  readonly type: "lru_crawler";
  /** The words after `lru_crawler`, as Latin-1 strings. */
  readonly args: string[];
}

/** `watch [fetchers|mutations|evictions|connevents ...]`: stream log lines on this connection. */
export interface WatchRequest {
  /** The kind of frame. */
  readonly type: "watch";
  /** The words after `watch`, as Latin-1 strings. */
  readonly args: string[];
}

/** A meta command line (`mg ms md ma mn me`), with the data block of `ms`. */
export interface MetaRequest {
  /** The kind of frame. */
  readonly type: "meta";
  /** The command word. */
  readonly command: MetaCommand;
  /** The key token as sent (still base64 when the `b` flag is given); empty for `mn`. */
  readonly key: Uint8Array;
  /** The flag tokens after the key (after the data length for `ms`), each as sent. */
  readonly flags: Uint8Array[];
  /** The value of `ms`, without its CRLF; empty otherwise or unless `status` is `ok`. */
  readonly data: Uint8Array;
  /** What became of the data block. */
  readonly status: DataStatus;
  /** memcached's token count for the line (words, capped at 23, plus one), which some of its checks use. */
  readonly tokenCount: number;
}

/** A line memcached answers with an error and nothing else. */
export interface InvalidRequest {
  /** The kind of frame. */
  readonly type: "invalid";
  /** The reply memcached gives. */
  readonly reply: ReplyName;
  /** memcached suppresses this reply: the line ended in `noreply` and was read that far. */
  readonly noreply: boolean;
}

/** One complete request, as `RequestParser.next()` gives it. */
export type Request =
  | StorageRequest
  | RetrievalRequest
  | DeleteRequest
  | ArithmeticRequest
  | TouchRequest
  | FlushAllRequest
  | StatsRequest
  | VersionRequest
  | VerbosityRequest
  | QuitRequest
  | ShutdownRequest
  | RefreshCertsRequest
  | CacheMemlimitRequest
  | SlabsRequest
  | LruCrawlerRequest
  | WatchRequest
  | MetaRequest
  | InvalidRequest;
