/**
 * The server's counters and memcached's `stats` groups, with memcached's field
 * names in memcached's order, so dashboards and exporters read them unchanged.
 *
 * @module
 */

import process from "node:process";
import type { WriteBuffer } from "../protocol/write_buffer.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./_logger.ts";
import type { Store } from "./_store.ts";
import { NO_TLS, type ServerTls } from "./_tls.ts";
import type { ConnectionInfo, Settings } from "./_types.ts";

/** OpenSSL's verify flags for ssl_verify_mode 0 to 3, as memcached prints them. */
const VERIFY_FLAGS = [0, 1, 3, 7];

function stat(out: WriteBuffer, name: string, value: string | number | bigint): void {
  out.latin1(`STAT ${name} ${value}\r\n`);
}

/** memcached's spelling of a boolean setting. */
const yesNo = (on: boolean): string => on ? "yes" : "no";

/** Seconds and microseconds, as memcached prints rusage. */
function seconds(micros: number): string {
  return `${Math.floor(micros / 1e6)}.${String(Math.floor(micros % 1e6)).padStart(6, "0")}`;
}

/** The server-wide counters memcached keeps per thread and sums for `stats`. */
export class ServerStats {
  /** Sets whose data block was bad: memcached counts them in cmd_set; the store never sees them. */
  badChunkSets = 0;
  cmdFlush = 0;
  cmdMeta = 0;
  storeTooLarge = 0;
  storeNoMemory = 0;
  /** Authentication attempts (`-Y`): right and wrong credentials, not malformed requests. */
  authCmds = 0;
  authErrors = 0;
  bytesRead = 0;
  bytesWritten = 0;
  currConnections = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  connectionStructures = 0;
  /** Connections closed for sitting idle past `idle_timeout` (`idle_kicks`). */
  idleKicks = 0;
  /** Times a connection gave the others a turn after memcached's `-R` requests (`conn_yields`). */
  connYields = 0;
  /**
   * Connections closed by an unexpected exception of ours. memcached has no such
   * line, so `stats` does not print it; it is for the operator's metrics.
   */
  unexpectedErrors = 0;
  /** Times accepting stopped for want of file descriptors, and for how long in all. */
  listenDisabledNum = 0;
  timeInListenDisabledUs = 0;
  #pausedListeners = 0;
  #pausedSince = 0;
  #clock: Clock;
  #settings: Settings;
  #tcpPort: () => number | undefined;
  #tls: ServerTls | undefined;
  /** The log `watch` reads, whose counters `stats` shows. */
  #logger: Logger | undefined;

  /**
   * Counters for a server with these settings.
   *
   * @param tcpPort The port the first TCP listener bound (`tcpport`).
   * @param tls The server's TLS, for its counters and `stats settings`.
   */
  /** When the listeners opened, with the server: their `secs_since_last_cmd` counts from it. */
  #listenersOpened: number;

  constructor(
    clock: Clock,
    settings: Settings,
    tcpPort: () => number | undefined,
    tls?: ServerTls,
    logger?: Logger,
  ) {
    this.#logger = logger;
    this.#clock = clock;
    this.#settings = settings;
    this.#tcpPort = tcpPort;
    this.#tls = tls;
    this.#listenersOpened = clock.now();
  }

  /** Seconds since the server started, memcached's `current_time`. */
  now(): number {
    return this.#clock.now();
  }

  connectionOpened(): void {
    this.currConnections++;
    this.totalConnections++;
    this.connectionStructures = Math.max(this.connectionStructures, this.currConnections);
  }

  connectionClosed(): void {
    this.currConnections--;
  }

  /** A listener stopped accepting for want of file descriptors. */
  listenDisabled(): void {
    if (this.#pausedListeners++ > 0) return;
    this.listenDisabledNum++;
    this.#pausedSince = performance.now();
  }

  /** A listener accepts again; the time counts once every listener does. */
  listenEnabled(): void {
    if (--this.#pausedListeners > 0) return;
    this.timeInListenDisabledUs += Math.round((performance.now() - this.#pausedSince) * 1000);
  }

  /** `stats reset`: the counters memcached zeroes. */
  reset(): void {
    for (
      const name of [
        "badChunkSets",
        "cmdFlush",
        "cmdMeta",
        "storeTooLarge",
        "storeNoMemory",
        "authCmds",
        "authErrors",
        "bytesRead",
        "bytesWritten",
        "totalConnections",
        "rejectedConnections",
        "connYields",
        "listenDisabledNum",
        "timeInListenDisabledUs",
      ] as const
    ) {
      this[name] = 0;
    }
  }

  /** `stats`: the general group. */
  writeGeneral(out: WriteBuffer, store: Store): void {
    const s = store.stats();
    const usage = process.cpuUsage();
    const settings = this.#settings;
    stat(out, "pid", Deno.pid);
    // memcached counts uptime from 60 s into its relative clock.
    stat(out, "uptime", this.#clock.now() - 60);
    stat(out, "time", this.#clock.unixTime());
    stat(out, "version", settings.version);
    stat(out, "libevent", `deno-${Deno.version.deno}`);
    stat(out, "pointer_size", 64);
    stat(out, "rusage_user", seconds(usage.user));
    stat(out, "rusage_system", seconds(usage.system));
    stat(out, "max_connections", settings.maxConnections);
    stat(out, "curr_connections", this.currConnections);
    stat(out, "total_connections", this.totalConnections);
    stat(out, "rejected_connections", this.rejectedConnections);
    stat(out, "connection_structures", this.connectionStructures);
    stat(out, "response_obj_oom", 0);
    stat(out, "response_obj_count", this.currConnections);
    stat(out, "response_obj_bytes", 0);
    stat(out, "read_buf_count", this.currConnections);
    stat(out, "read_buf_bytes", 0);
    stat(out, "read_buf_bytes_free", 0);
    stat(out, "read_buf_oom", 0);
    stat(out, "reserved_fds", 0);
    stat(out, "cmd_get", s.getHits + s.getMisses);
    stat(out, "cmd_set", s.cmdSet + this.badChunkSets);
    stat(out, "cmd_flush", this.cmdFlush);
    stat(out, "cmd_touch", s.touchHits + s.touchMisses);
    stat(out, "cmd_meta", this.cmdMeta);
    stat(out, "get_hits", s.getHits);
    stat(out, "get_misses", s.getMisses);
    stat(out, "get_expired", s.getExpired);
    stat(out, "get_flushed", s.getFlushed);
    stat(out, "delete_misses", s.deleteMisses);
    stat(out, "delete_hits", s.deleteHits);
    stat(out, "incr_misses", s.incrMisses);
    stat(out, "incr_hits", s.incrHits);
    stat(out, "decr_misses", s.decrMisses);
    stat(out, "decr_hits", s.decrHits);
    stat(out, "cas_misses", s.casMisses);
    stat(out, "cas_hits", s.casHits);
    stat(out, "cas_badval", s.casBadval);
    stat(out, "touch_hits", s.touchHits);
    stat(out, "touch_misses", s.touchMisses);
    stat(out, "store_too_large", this.storeTooLarge);
    stat(out, "store_no_memory", this.storeNoMemory);
    stat(out, "auth_cmds", this.authCmds);
    stat(out, "auth_errors", this.authErrors);
    if (settings.idleTimeout !== 0) stat(out, "idle_kicks", this.idleKicks);
    stat(out, "bytes_read", this.bytesRead);
    stat(out, "bytes_written", this.bytesWritten);
    stat(out, "limit_maxbytes", settings.memoryLimit);
    stat(out, "accepting_conns", this.#pausedListeners === 0 ? 1 : 0);
    stat(out, "listen_disabled_num", this.listenDisabledNum);
    stat(out, "time_in_listen_disabled_us", this.timeInListenDisabledUs);
    stat(out, "threads", settings.threads);
    stat(out, "conn_yields", this.connYields);
    stat(out, "hash_power_level", s.hashPowerLevel);
    stat(out, "hash_bytes", s.hashBytes);
    stat(out, "hash_is_expanding", 0);
    stat(out, "slab_reassign_rescues", s.slabReassignRescues);
    stat(out, "slab_reassign_chunk_rescues", 0);
    stat(out, "slab_reassign_evictions_nomem", s.slabReassignEvictionsNomem);
    stat(out, "slab_reassign_inline_reclaim", 0);
    stat(out, "slab_reassign_busy_items", 0);
    stat(out, "slab_reassign_busy_deletes", 0);
    stat(out, "slab_reassign_running", 0);
    stat(out, "slabs_moved", s.slabsMoved);
    for (
      const name of [
        "lru_crawler_running",
        "lru_crawler_starts",
        "lru_maintainer_juggles",
        "malloc_fails",
        "log_worker_dropped",
      ]
    ) {
      stat(out, name, 0);
    }
    const logger = this.#logger;
    stat(out, "log_worker_written", logger?.written ?? 0);
    stat(out, "log_watcher_skipped", logger?.skipped ?? 0);
    stat(out, "log_watcher_sent", logger?.sent ?? 0);
    stat(out, "log_watchers", logger?.watchers ?? 0);
    const tls = this.#tls;
    if (tls !== undefined) {
      if (tls.settings.sessionCache) stat(out, "ssl_new_sessions", tls.newSessions);
      stat(out, "ssl_handshake_errors", tls.handshakeErrors);
      stat(out, "time_since_server_cert_refresh", this.#clock.now() - tls.lastRefresh);
    }
    stat(out, "unexpected_napi_ids", 0);
    stat(out, "round_robin_fallback", 0);
    stat(out, "bytes", s.bytes);
    stat(out, "curr_items", s.currItems);
    stat(out, "total_items", s.totalItems);
    stat(out, "slab_global_page_pool", 0);
    stat(out, "expired_unfetched", s.expiredUnfetched);
    stat(out, "evicted_unfetched", s.evictedUnfetched);
    stat(out, "evicted_active", 0);
    stat(out, "evictions", s.evictions);
    stat(out, "reclaimed", s.reclaimed);
    stat(out, "crawler_reclaimed", s.crawlerReclaimed);
    for (
      const name of [
        "crawler_items_checked",
        "lrutail_reflocked",
        "moves_to_cold",
        "moves_to_warm",
        "moves_within_lru",
        "direct_reclaims",
        "lru_bumps_dropped",
      ]
    ) {
      stat(out, name, 0);
    }
  }

  /** `stats settings`, with whether `stats detail` is counting. */
  writeSettings(out: WriteBuffer, store: Store, detailEnabled: boolean): void {
    const settings = this.#settings;
    const ssl = this.#tls?.settings ?? NO_TLS;
    const entries: [string, string | number][] = [
      ["maxbytes", settings.memoryLimit],
      ["maxconns", settings.maxConnections],
      ["tcpport", this.#tcpPort() ?? settings.port],
      ["udpport", settings.udpPort],
      ["inter", settings.hostname],
      ["verbosity", settings.verbosity],
      ["oldest", store.stats().oldestLive],
      ["evictions", settings.evictions ? "on" : "off"],
      ["domain_socket", settings.socketPath ?? "NULL"],
      ["umask", settings.socketMask.toString(8)],
      ["shutdown_command", settings.enableShutdown ? "yes" : "no"],
      ["growth_factor", settings.growthFactor.toFixed(2)],
      ["chunk_size", settings.chunkSize],
      ["num_threads", settings.threads],
      ["num_threads_per_udp", settings.threads],
      ["stat_key_prefix", settings.prefixDelimiter],
      ["detail_enabled", detailEnabled ? "yes" : "no"],
      ["reqs_per_event", settings.requestsPerEvent],
      ["cas_enabled", settings.cas ? "yes" : "no"],
      ["tcp_backlog", settings.backlog],
      ["binding_protocol", "ascii"],
      ["auth_enabled_sasl", "no"],
      // memcached names the auth file here, not "yes".
      ["auth_enabled_ascii", settings.authFile ?? "no"],
      ["item_size_max", settings.maxItemSize],
      ["maxconns_fast", yesNo(settings.maxconnsFast)],
      ["hashpower_init", settings.hashpowerInit],
      ["slab_reassign", yesNo(settings.slabReassign)],
      ["slab_automove", settings.slabAutomove],
      ["slab_automove_ratio", settings.slabAutomoveRatio.toFixed(2)],
      ["slab_automove_window", settings.slabAutomoveWindow],
      ["slab_chunk_max", settings.slabChunkMax],
      ["lru_crawler", yesNo(settings.lruCrawler)],
      ["lru_crawler_sleep", settings.lruCrawlerSleep],
      ["lru_crawler_tocrawl", settings.lruCrawlerTocrawl],
      ["tail_repair_time", settings.tailRepairTime],
      ["flush_enabled", yesNo(settings.flushEnabled)],
      ["dump_enabled", yesNo(settings.dumpEnabled)],
      ["hash_algorithm", settings.hashAlgorithm],
      ["lru_maintainer_thread", "no"],
      ["lru_segmented", "no"],
      ["hot_lru_pct", settings.hotLruPct],
      ["warm_lru_pct", settings.warmLruPct],
      ["hot_max_factor", settings.hotMaxFactor.toFixed(2)],
      ["warm_max_factor", settings.warmMaxFactor.toFixed(2)],
      ["temp_lru", yesNo(settings.tempLru)],
      ["temporary_ttl", settings.temporaryTtl],
      ["idle_timeout", settings.idleTimeout],
      ["watcher_logbuf_size", settings.watcherLogbufSize],
      ["worker_logbuf_size", settings.workerLogbufSize],
      ["read_buf_mem_limit", settings.readBufMemLimit],
      ["track_sizes", yesNo(store.operator.sizesTracked)],
      ["inline_ascii_response", "no"],
      ["ext_item_size", settings.extItemSize],
      ["ext_item_age", settings.extItemAge],
      ["ext_low_ttl", settings.extLowTtl],
      ["ext_recache_rate", settings.extRecacheRate],
      ["ext_wbuf_size", settings.extWbufSize],
      ["ext_compact_under", settings.extCompactUnder],
      ["ext_drop_under", settings.extDropUnder],
      ["ext_max_sleep", settings.extMaxSleep],
      ["ext_max_frag", settings.extMaxFrag.toFixed(2)],
      ["slab_automove_freeratio", settings.slabAutomoveFreeratio.toFixed(3)],
      ["ext_drop_unread", yesNo(settings.extDropUnread)],
      ["ssl_enabled", this.#tls === undefined ? "no" : "yes"],
      ["ssl_chain_cert", ssl.chainCert ?? "(null)"],
      ["ssl_key", ssl.key ?? "(null)"],
      ["ssl_verify_mode", VERIFY_FLAGS[ssl.verifyMode]],
      ["ssl_keyformat", 1],
      ["ssl_ciphers", "NULL"],
      ["ssl_ca_cert", ssl.caCert ?? "NULL"],
      ["ssl_wbuf_size", ssl.writeBufferSize],
      ["ssl_session_cache", ssl.sessionCache ? "yes" : "no"],
      ["ssl_kernel_tls", "no"],
      ["ssl_min_version", ssl.minVersion],
      ["num_napi_ids", settings.napiIds ?? "(null)"],
      ["connection_layer", settings.connectionLayer],
      ["memory_file", "(null)"],
    ];
    for (const [name, value] of entries) stat(out, name, value);
  }

  /** `stats items`: per size class with items. */
  writeItems(out: WriteBuffer, store: Store): void {
    for (const c of store.slabClasses()) {
      if (c.items === 0) continue;
      const p = `items:${c.id}:`;
      stat(out, `${p}number`, c.items);
      stat(out, `${p}number_hot`, 0);
      stat(out, `${p}number_warm`, 0);
      stat(out, `${p}number_cold`, c.items);
      stat(out, `${p}age_hot`, 0);
      stat(out, `${p}age_warm`, 0);
      stat(out, `${p}age`, c.age);
      stat(out, `${p}mem_requested`, c.requestedBytes);
      stat(out, `${p}evicted`, c.evicted);
      stat(out, `${p}evicted_nonzero`, c.evictedNonzero);
      stat(out, `${p}evicted_time`, c.evictedTime);
      stat(out, `${p}outofmemory`, c.outOfMemory);
      stat(out, `${p}tailrepairs`, 0);
      stat(out, `${p}reclaimed`, c.reclaimed);
      stat(out, `${p}expired_unfetched`, c.expiredUnfetched);
      stat(out, `${p}evicted_unfetched`, c.evictedUnfetched);
      stat(out, `${p}evicted_active`, 0);
      stat(out, `${p}crawler_reclaimed`, c.crawlerReclaimed);
      for (
        const name of [
          "crawler_items_checked",
          "lrutail_reflocked",
          "moves_to_cold",
          "moves_to_warm",
          "moves_within_lru",
          "direct_reclaims",
          "hits_to_hot",
          "hits_to_warm",
          "hits_to_cold",
          "hits_to_temp",
        ]
      ) {
        stat(out, `${p}${name}`, 0);
      }
    }
  }

  /** `stats sizes`: items by size in 32-byte steps while counting, else that it is off. */
  writeSizes(out: WriteBuffer, store: Store): void {
    const sizes = store.operator.sizes();
    if (sizes === undefined) stat(out, "sizes_status", "disabled");
    else for (const [size, count] of sizes) stat(out, String(size), count);
  }

  /** `stats slabs`: per size class with pages. */
  writeSlabs(out: WriteBuffer, store: Store): void {
    let active = 0;
    for (const c of store.slabClasses()) {
      if (c.totalPages === 0) continue;
      active++;
      const p = `${c.id}:`;
      stat(out, `${p}chunk_size`, c.chunkSize);
      stat(out, `${p}chunks_per_page`, c.chunksPerPage);
      stat(out, `${p}total_pages`, c.totalPages);
      stat(out, `${p}total_chunks`, c.totalChunks);
      stat(out, `${p}used_chunks`, c.usedChunks);
      stat(out, `${p}free_chunks`, c.freeChunks);
      // memcached carves a whole page into free chunks at once, so none are left at its end.
      stat(out, `${p}free_chunks_end`, 0);
      stat(out, `${p}get_hits`, c.getHits);
      stat(out, `${p}cmd_set`, c.setCmds);
      stat(out, `${p}delete_hits`, c.deleteHits);
      stat(out, `${p}incr_hits`, c.incrHits);
      stat(out, `${p}decr_hits`, c.decrHits);
      stat(out, `${p}cas_hits`, c.casHits);
      stat(out, `${p}cas_badval`, c.casBadval);
      stat(out, `${p}touch_hits`, c.touchHits);
    }
    stat(out, "active_slabs", active);
    stat(out, "total_malloced", store.stats().totalMalloced);
  }

  /** `stats conns`: the listeners, then every client connection. */
  writeConns(
    out: WriteBuffer,
    listeners: { number: number; name: string }[],
    connections: ConnectionInfo[],
  ): void {
    const now = this.#clock.now();
    for (const { number, name } of listeners) {
      stat(out, `${number}:addr`, name);
      stat(out, `${number}:state`, "conn_listening");
      stat(out, `${number}:secs_since_last_cmd`, now - this.#listenersOpened);
    }
    // memcached walks its connections by descriptor.
    for (const c of connections.toSorted((a, b) => a.id - b.id)) {
      const id = c.id;
      stat(out, `${id}:addr`, c.addr);
      stat(out, `${id}:listen_addr`, c.listenAddr);
      stat(out, `${id}:state`, c.state);
      stat(out, `${id}:secs_since_last_cmd`, now - c.lastCommandTime);
    }
  }
}
