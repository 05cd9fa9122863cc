/**
 * The server's in-memory store, with memcached 1.6's rules for every command
 * (its do_store_item, do_add_delta and the meta commands' item handling):
 * storage commands, cas, incr/decr, touch, flush_all, lazy expiry, and the
 * meta protocol's marks. It is built from memcached's seams, each a file:
 * the slab pages (`_slab_allocator.ts`), the item rows (`_item_rows.ts`),
 * the key index (`_hash_index.ts`), item life, the LRU and eviction
 * (`_lru.ts`), and the counters (`_item_stats.ts`). The store knows nothing
 * about the wire.
 *
 * @module
 */

import { parseU64 } from "../protocol/_numbers.ts";
import { itemSize, KEY_MAX_LENGTH } from "../protocol/limits.ts";
import { HashIndex, hashKey } from "./_hash_index.ts";
import { Items } from "./_items.ts";
import { COUNTER, ItemStats, type SlabClassStats, type StoreStats } from "./_item_stats.ts";
import { casAt, classAt, ItemRows, ROW, rowHeaderBytes, setCas } from "./_item_rows.ts";
import { Lru } from "./_lru.ts";
import { SlabAllocator } from "./_slab_allocator.ts";
import { StoreCrawl } from "./_store_crawl.ts";
import { StoreOperator } from "./_store_operator.ts";
import { StoreRestart } from "./_store_restart.ts";
import type {
  DeltaResult,
  ItemEvents,
  ItemView,
  MetaDeleteOptions,
  MetaDeltaFailure,
  MetaDeltaOptions,
  MetaSetOptions,
  PinnedValue,
  StoreFailure,
  StoreOptions,
  StoreResult,
} from "./_types.ts";
import { type Clock, relativeExptime, SystemClock } from "./clock.ts";

// Module-local copies of the layout constants, which V8 folds into the code.
const {
  F_EXPTIME,
  F_FLAGS,
  F_INFO,
  F_OFFSET,
  F_PAGE,
  F_VLEN,
  INFO_FETCHED,
  INFO_KEY_BINARY,
  INFO_STALE,
  INFO_TOKEN_SENT,
  STRIDE,
} = ROW;
const {
  C_CAS_BADVAL,
  C_CAS_HITS,
  C_CMD_SET,
  C_COUNT,
  C_DECR_HITS,
  C_DELETE_HITS,
  C_GET_HITS,
  C_INCR_HITS,
  C_TOUCH_HITS,
} = COUNTER;

const SET = 0;
const ADD = 1;
const REPLACE = 2;
const APPEND = 3;
const PREPEND = 4;
const CAS = 5;
const MODES = { set: SET, add: ADD, replace: REPLACE, append: APPEND, prepend: PREPEND };

const MAX_KEY = KEY_MAX_LENGTH;
/** Events of a store nobody watches. */
const NO_EVENTS: ItemEvents = {
  fetchers: false,
  evictions: false,
  itemGet() {},
  eviction() {},
};
const U64_MASK = (1n << 64n) - 1n;
const CR = 13;
const LF = 10;
const SPACE = 32;

/**
 * memcached's item store, synchronous and wire-agnostic. Keys and values
 * are bytes; the store copies what it keeps. A lookup returns a slot number,
 * and {@linkcode Store.prototype.items} reads the item in place: views and
 * slot numbers are valid until the next call that changes the store.
 *
 * Differences from memcached 1.6.18, all outside the replies of a store with
 * memory to spare: one LRU per class instead of the segmented HOT/WARM/COLD
 * LRU (see `_lru.ts`), and every hit stamps the access time (memcached at
 * most once a minute); a store of an existing key checks the key before
 * taking memory, so under memory pressure `add` of an existing key is
 * `NOT_STORED` where memcached may say out of memory; a value that fits its
 * old chunk is overwritten in place; a class with nothing to evict takes a
 * page from another class at once (memcached's page mover runs in the
 * background); the memory limit is never exceeded, where memcached gives each
 * class its first page beyond it.
 */
export class Store {
  /** Reads the item of a slot that a lookup returned. */
  readonly items: ItemView;
  /** The operator's commands on memory: `cache_memlimit`, `slabs reassign`, `stats sizes`. */
  readonly operator: StoreOperator;
  /** What `-e` saves of the store on a clean stop and puts back at the next start. */
  readonly restart: StoreRestart;
  /** What `lru_crawler` walks and reclaims, class by class. */
  readonly crawl: StoreCrawl;
  #clock: Clock;
  #maxItemSize: number;
  #slab: SlabAllocator;
  #rows: ItemRows;
  #lru: Lru;
  #stats: ItemStats;
  #items: Items;
  #index: HashIndex;

  /**
   * Creates an empty store; pages are allocated as items arrive.
   *
   * @param options Limits and behaviour, named after memcached's flags.
   * @throws {RangeError} If a limit is out of range, as memcached refuses it
   * (for example `maxItemSize` above half of `maxBytes`).
   */
  constructor(options: StoreOptions = {}) {
    const {
      maxBytes = 64 * 1024 * 1024,
      maxItemSize = 1024 * 1024,
      useCas = true,
      evict = true,
      growthFactor = 1.25,
      minChunkSize = 96,
      pageSize = 1024 * 1024,
      clock = new SystemClock(),
      hashPower = 16,
      chunkMax,
      classSizes,
      trackSizes = false,
      events = NO_EVENTS,
    } = options;
    checkInteger("maxBytes", maxBytes, 1);
    checkInteger("pageSize", pageSize, 1024);
    checkInteger("minChunkSize", minChunkSize, 16);
    checkInteger("maxItemSize", maxItemSize, 1024);
    checkInteger("hashPower", hashPower, 4);
    if (!(growthFactor > 1) || !Number.isFinite(growthFactor)) {
      throw new RangeError(
        `Cannot create the store: growthFactor "${growthFactor}" must be greater than 1`,
      );
    }
    if (maxItemSize > maxBytes / 2) {
      throw new RangeError(
        `Cannot create the store: maxItemSize "${maxItemSize}" is more than half of maxBytes "${maxBytes}"`,
      );
    }
    if (minChunkSize > pageSize / 2 || hashPower > 30) {
      throw new RangeError(
        `Cannot create the store: minChunkSize "${minChunkSize}" or hashPower "${hashPower}" is too large`,
      );
    }
    this.#clock = clock;
    this.#maxItemSize = maxItemSize;
    this.#slab = new SlabAllocator({
      maxBytes,
      pageSize,
      minChunkSize,
      growthFactor,
      maxItemSize,
      headerSize: rowHeaderBytes(useCas),
      chunkMax,
      sizes: classSizes?.length ? classSizes : undefined,
    });
    // The smallest item takes the smallest chunk that fits it, which bounds the items -m holds.
    const smallest = this.#slab.chunkSize[this.#slab.classFor(itemSize(1, 0, 0, useCas))];
    const slab = this.#slab;
    const rows = this.#rows = new ItemRows(useCas, Math.ceil(maxBytes / smallest));
    const index = this.#index = new HashIndex(rows, slab.pages, hashPower);
    const stats = this.#stats = new ItemStats(slab.largest);
    const lru = this.#lru = new Lru(rows, index, slab, stats, evict, events);
    this.items = this.#items = new Items(rows, index, slab, lru, stats, clock, events);
    this.operator = new StoreOperator(slab, lru, stats, rows, clock, { maxItemSize });
    this.crawl = new StoreCrawl(slab, rows, lru, clock);
    this.restart = new StoreRestart(rows, lru, this.#items, clock, (key) => {
      checkKey(key);
      this.discard(key);
    });
    // memcached takes a unique for the threshold at start too (0 with -C, so every item counts).
    if (trackSizes) this.#stats.trackSizes(maxItemSize, this.#rows.nextCas());
  }

  /** The clock the store reads. */
  get clock(): Clock {
    return this.#clock;
  }

  // ---------------------------------------------------------------- lookups

  /**
   * Looks up a key, as `get`: a hit is marked fetched and used.
   *
   * @param key The key bytes (1 to 250 bytes).
   * @returns The item's slot, or -1 on a miss.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  get(key: Uint8Array): number {
    checkKey(key);
    const now = this.#clock.now();
    const slot = this.#items.lookup(key, hashKey(key), now);
    if (slot < 0) {
      this.#stats.getMisses++;
      return -1;
    }
    this.#items.hit(slot, now, C_GET_HITS);
    return slot;
  }

  /**
   * Looks up a key and gives it a new exptime, as `touch`, `gat` and
   * `gats`: a hit is also marked fetched and used.
   *
   * @param key The key bytes.
   * @param exptime The new exptime as sent on the wire (see {@linkcode relativeExptime}).
   * @returns The item's slot, or -1 on a miss.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  touch(key: Uint8Array, exptime: number): number {
    checkKey(key);
    const now = this.#clock.now();
    const slot = this.#items.lookup(key, hashKey(key), now);
    if (slot < 0) {
      this.#stats.touchMisses++;
      return -1;
    }
    this.#rows.meta[slot * STRIDE + F_EXPTIME] = relativeExptime(exptime, this.#clock);
    this.#items.hit(slot, now, C_TOUCH_HITS);
    return slot;
  }

  /**
   * Looks up a key without touching it, as memcached's lookups with
   * DONT_UPDATE: no LRU bump, no fetched mark, no hit or miss counted (an
   * expired or flushed item found on the way is still reclaimed and counted).
   *
   * @param key The key bytes.
   * @returns The item's slot, or -1 on a miss.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  peek(key: Uint8Array): number {
    checkKey(key);
    return this.#items.lookup(key, hashKey(key), this.#clock.now());
  }

  /**
   * Reads ahead, for a multi-get, the index entries of up to 32 keys from
   * `from` (see {@linkcode HashIndex.prototype.prefetch}). Changes nothing.
   *
   * @returns How many keys it read ahead.
   */
  prefetch(keys: readonly Uint8Array[], from: number): number {
    return this.#index.prefetch(keys, from);
  }

  /**
   * An item's value, kept as it is until `release` however the store changes
   * meanwhile, as memcached's refcount keeps an item a write is sending: a
   * large value can then be written straight from its page.
   *
   * @returns The value's bytes and the call that lets the store reuse them.
   */
  pinValue(slot: number): PinnedValue {
    const base = slot * STRIDE;
    const page = this.#rows.meta[base + F_PAGE];
    const offset = this.#rows.meta[base + F_OFFSET];
    const slab = this.#slab;
    slab.pin(page, offset);
    return { value: this.#items.value(slot), release: () => slab.unpin(page, offset) };
  }

  // ---------------------------------------------------------------- storing

  /**
   * Stores a value, as `set`. A value too large for `maxItemSize` gives
   * `TOO_LARGE` and, as in memcached, deletes the key's old value, as does
   * `NO_MEMORY`, so a failed set never leaves stale data behind.
   *
   * The parameters follow the command line; positional, so this hot path
   * makes no options object.
   *
   * @param key The key bytes (1 to 250 bytes); copied.
   * @param flags Client flags, an unsigned 32-bit integer.
   * @param exptime The exptime as sent on the wire (see {@linkcode relativeExptime}).
   * @param value The value bytes; copied. Not a view returned by this store.
   * @returns `STORED`, `TOO_LARGE` or `NO_MEMORY`.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  set(key: Uint8Array, flags: number, exptime: number, value: Uint8Array): StoreResult {
    return this.#result(this.#store(SET, key, flags, exptime, value, 0, false));
  }

  /**
   * Stores a value only if the key is missing, as `add`; a present key
   * counts as used and the result is `NOT_STORED`.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  add(key: Uint8Array, flags: number, exptime: number, value: Uint8Array): StoreResult {
    return this.#result(this.#store(ADD, key, flags, exptime, value, 0, false));
  }

  /**
   * Stores a value only if the key is present, as `replace`.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  replace(key: Uint8Array, flags: number, exptime: number, value: Uint8Array): StoreResult {
    return this.#result(this.#store(REPLACE, key, flags, exptime, value, 0, false));
  }

  /**
   * Adds bytes after a present item's value, as `append`; the item keeps
   * its flags and exptime (those on the command line are ignored, as in
   * memcached). A result too large is `NOT_STORED`.
   *
   * @returns `STORED`, `NOT_STORED` (missing key, or too large), `TOO_LARGE`
   * (the new bytes alone) or `NO_MEMORY`.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  append(key: Uint8Array, value: Uint8Array): StoreResult {
    return this.#result(this.#store(APPEND, key, 0, 0, value, 0, false));
  }

  /**
   * Adds bytes before a present item's value, as `prepend`; see
   * {@linkcode Store.prototype.append}.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  prepend(key: Uint8Array, value: Uint8Array): StoreResult {
    return this.#result(this.#store(PREPEND, key, 0, 0, value, 0, false));
  }

  /**
   * Stores a value only if the item is unchanged since the client read
   * `unique`, as `cas`: `NOT_FOUND` for a missing key, `EXISTS` when the
   * unique differs (always, when cas is off or `unique` is 0).
   *
   * @param unique The cas unique from `gets`, 0 to 2^64 - 1.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  cas(
    key: Uint8Array,
    flags: number,
    exptime: number,
    value: Uint8Array,
    unique: bigint | number,
  ): StoreResult {
    // Uniques stay below 2^53, and rounding keeps larger inputs at or above it.
    return this.#result(this.#store(CAS, key, flags, exptime, value, Number(unique), false));
  }

  /**
   * Removes an item, as `delete`.
   *
   * @returns Whether there was a live item to remove (`DELETED`), or not (`NOT_FOUND`).
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  delete(key: Uint8Array): boolean {
    checkKey(key);
    const slot = this.#items.lookup(key, hashKey(key), this.#clock.now());
    if (slot < 0) {
      this.#stats.deleteMisses++;
      return false;
    }
    this.#countDelete(slot);
    return true;
  }

  /**
   * Adds to a decimal value, as `incr`: unsigned 64-bit, wrapping at 2^64.
   * A shorter result is written in place padded with spaces, as memcached
   * does; a longer one makes a new item with the same flags and exptime.
   *
   * @param key The key bytes.
   * @param delta 0 to 2^64 - 1.
   * @returns The new value, `"NOT_FOUND"`, `"NON_NUMERIC"` (the value is not
   * a decimal number below 2^64) or `"NO_MEMORY"`.
   * @throws {RangeError} If the key is bad or `delta` is out of range.
   */
  incr(key: Uint8Array, delta: bigint): DeltaResult {
    return this.#number(this.#delta(key, delta, true, 0, true));
  }

  /**
   * Subtracts from a decimal value, as `decr`, stopping at 0; see
   * {@linkcode Store.prototype.incr}.
   *
   * @throws {RangeError} If the key is bad or `delta` is out of range.
   */
  decr(key: Uint8Array, delta: bigint): DeltaResult {
    return this.#number(this.#delta(key, delta, false, 0, true));
  }

  /**
   * Invalidates every item, as `flush_all`: now, or at a future exptime.
   * Items accessed at or before the flush point become misses; memory is
   * given back lazily, by lookups, allocation and `sweep`.
   *
   * @param exptime 0 (or negative) for now, else an exptime as on the wire.
   */
  flushAll(exptime = 0): void {
    const now = this.#clock.now();
    this.#lru.flush(exptime > 0 ? relativeExptime(exptime, this.#clock) : now, now);
  }

  /**
   * Reclaims expired and flushed items without a read, as memcached's LRU
   * crawler. Call it on each tick; it resumes where it stopped.
   *
   * @param maxItems The most items to look at in this call.
   * @returns How many items were reclaimed.
   */
  sweep(maxItems: number): number {
    return this.#lru.sweep(maxItems, this.#clock.now());
  }

  /**
   * The slot of the live item of `key`, or -1, changing, counting and
   * reporting nothing: for log lines about what a command left behind.
   *
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  find(key: Uint8Array): number {
    checkKey(key);
    const slot = this.#index.find(key, hashKey(key));
    if (slot < 0) return -1;
    return this.#lru.deadness(slot * STRIDE, this.#clock.now()) === 0 ? slot : -1;
  }

  /** The size class an item of these sizes takes (memcached's slabs_clsid), 0 when none fits. */
  classFor(keyLength: number, flags: number, valueLength: number): number {
    return this.#items.classFor(keyLength, flags, valueLength);
  }

  // ---------------------------------------------------------------- meta

  /** Marks an item fetched and used, after a lookup that did not (memcached's do_item_bump). */
  fetch(slot: number): void {
    this.#rows.meta[slot * STRIDE + F_INFO] |= INFO_FETCHED;
    this.#lru.bump(slot, this.#clock.now());
  }

  /**
   * Counts a meta get: a hit of `slot` (or a miss when -1) in `get_hits`, or
   * in `touch_hits` when the get also touched.
   */
  countGet(slot: number, touch: boolean): void {
    if (slot < 0) {
      if (touch) this.#stats.touchMisses++;
      else this.#stats.getMisses++;
      return;
    }
    const row = this.#items.classId(slot) * C_COUNT;
    this.#stats.byClass[row + (touch ? C_TOUCH_HITS : C_GET_HITS)]++;
  }

  /** Gives an item a new exptime, as sent on the wire. */
  setExptime(slot: number, exptime: number): void {
    this.#rows.meta[slot * STRIDE + F_EXPTIME] = relativeExptime(exptime, this.#clock);
  }

  /** Records that a client won the right to recache the item. */
  markTokenSent(slot: number): void {
    this.#rows.meta[slot * STRIDE + F_INFO] |= INFO_TOKEN_SENT;
  }

  /**
   * Removes an item without counting anything, as memcached drops the old
   * value when a store cannot allocate its new item.
   */
  discard(key: Uint8Array): void {
    const slot = this.peek(key);
    if (slot >= 0) this.#lru.unlink(slot);
  }

  /**
   * Creates an item for a key that missed (`mg N`, `ma N`): flags 0, no
   * exptime, the given value, a fresh cas; not counted as a set.
   *
   * @returns The new item's slot, or -1 when there is no memory.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  vivify(key: Uint8Array, value: Uint8Array): number {
    const klen = checkKey(key);
    const cls = this.#items.classFor(klen, 0, value.length);
    return this.#items.insert(key, value, 0, 0, cls, hashKey(key), this.#clock.now());
  }

  /**
   * Stores a value as `ms` does: the modes of the classic storage commands,
   * a cas to compare that turns set and replace into cas (and guards append
   * and prepend), and `invalidate`, which stores a value with an older cas
   * marked stale.
   *
   * @returns The stored item's slot, or why nothing was stored.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  metaSet(key: Uint8Array, value: Uint8Array, options: MetaSetOptions = {}): number | StoreFailure {
    const { flags = 0, exptime = 0, cas, invalidate = false, binaryKey = false } = options;
    let mode = MODES[options.mode ?? "set"];
    if (cas !== undefined && (mode === SET || mode === REPLACE)) mode = CAS;
    const unique = cas === undefined ? 0 : Number(cas);
    const result = this.#store(
      mode,
      key,
      flags,
      exptime,
      value,
      unique,
      invalidate && mode === CAS,
    );
    if (typeof result === "number" && binaryKey) {
      this.#rows.meta[result * STRIDE + F_INFO] |= INFO_KEY_BINARY;
    }
    return result;
  }

  /**
   * Deletes an item as `md` does: only if it has `cas` when one is given,
   * and with `invalidate`, marks it stale instead (a new cas, the win token
   * free again, optionally a new exptime). A miss or a cas mismatch counts
   * in `delete_misses`.
   *
   * @returns `DELETED` (or invalidated), `NOT_FOUND`, or `EXISTS` for a cas mismatch.
   * @throws {RangeError} If the key is empty or longer than 250 bytes.
   */
  metaDelete(key: Uint8Array, options: MetaDeleteOptions = {}): "DELETED" | "NOT_FOUND" | "EXISTS" {
    const slot = this.peek(key);
    const cas = options.cas;
    if (slot < 0 || (cas !== undefined && BigInt(this.#items.casUnique(slot)) !== cas)) {
      this.#stats.deleteMisses++;
      return slot < 0 ? "NOT_FOUND" : "EXISTS";
    }
    if (!options.invalidate) {
      this.#countDelete(slot);
      return "DELETED";
    }
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    if (options.exptime !== undefined) {
      meta[base + F_EXPTIME] = relativeExptime(options.exptime, this.#clock);
    }
    meta[base + F_INFO] = (meta[base + F_INFO] | INFO_STALE) & ~INFO_TOKEN_SENT;
    setCas(meta, base, this.#rows.nextCas());
    return "DELETED";
  }

  /**
   * Adds to or subtracts from a decimal value, as `ma`: like
   * {@linkcode Store.prototype.incr}, but a non-zero `cas` must match the
   * item's. The new number is the item's value, up to its padding spaces.
   *
   * @returns The item's slot, or why nothing changed.
   * @throws {RangeError} If the key is bad or `delta` is out of range.
   */
  metaDelta(key: Uint8Array, delta: bigint, options: MetaDeltaOptions): number | MetaDeltaFailure {
    const { incr, cas = 0n, countMiss = true } = options;
    return this.#delta(key, delta, incr, Number(cas), countMiss);
  }

  // ------------------------------------------------------------------ stats

  /** The global counters for `stats`. */
  stats(): StoreStats {
    return this.#items.stats();
  }

  /** Every size class, by id from 1, for `stats slabs` and `stats items`. */
  slabClasses(): SlabClassStats[] {
    return this.#items.slabClasses();
  }

  /**
   * Zeroes the counters, as `stats reset`: everything but what describes
   * the store now (items, bytes, pages, the hash table).
   */
  resetStats(): void {
    this.#stats.reset();
  }

  // -------------------------------------------------------------- internals

  #countDelete(slot: number): void {
    this.#stats.byClass[this.#items.classId(slot) * C_COUNT + C_DELETE_HITS]++;
    this.#lru.unlink(slot);
  }

  /** A storage command's result as memcached names it. */
  #result(result: number | StoreFailure): StoreResult {
    return typeof result === "number" ? "STORED" : result;
  }

  /** do_store_item: the item's slot when stored, else why not. */
  #store(
    mode: number,
    key: Uint8Array,
    flags: number,
    exptime: number,
    value: Uint8Array,
    unique: number,
    stale: boolean,
  ): number | StoreFailure {
    const klen = checkKey(key);
    const vlen = value.length;
    flags = flags >>> 0;
    const now = this.#clock.now();
    const hash = hashKey(key);
    const rows = this.#rows;
    if (itemSize(klen, flags, vlen, rows.useCas) > this.#maxItemSize) {
      if (mode === SET) {
        // memcached: a failed set must not leave the old value behind.
        const old = this.#items.lookup(key, hash, now);
        if (old >= 0) this.#lru.unlink(old);
      }
      return "TOO_LARGE";
    }
    const cls = this.#items.classFor(klen, flags, vlen);
    const counts = this.#stats.byClass;
    counts[cls * C_COUNT + C_CMD_SET]++;
    const slot = this.#items.lookup(key, hash, now);
    if (slot < 0) {
      if (mode === CAS) {
        this.#stats.casMisses++;
        return "NOT_FOUND";
      }
      if (mode !== SET && mode !== ADD) return "NOT_STORED";
      const created = this.#items.insert(
        key,
        value,
        flags,
        relativeExptime(exptime, this.#clock),
        cls,
        hash,
        now,
      );
      return created < 0 ? "NO_MEMORY" : created;
    }
    const base = slot * STRIDE;
    let staleBits = 0;
    switch (mode) {
      case ADD:
        this.#lru.bump(slot, now);
        return "NOT_STORED";
      case CAS: {
        const row = classAt(rows.meta, base) * C_COUNT;
        const current = casAt(rows.meta, base);
        if (unique === 0 || unique !== current) {
          // A unique of 0 is no cas at all, so it is never an older one.
          if (!stale || unique === 0 || unique >= current) {
            counts[row + C_CAS_BADVAL]++;
            return "EXISTS";
          }
          // memcached's ms I: an older cas stores anyway, stale, keeping the old exptime and win token.
          staleBits = INFO_STALE | (rows.meta[base + F_INFO] & INFO_TOKEN_SENT);
        }
        counts[row + C_CAS_HITS]++;
        break;
      }
      case APPEND:
      case PREPEND:
        // A meta append with a cas stores only over that cas; 0 means none given.
        if (unique !== 0 && unique !== casAt(rows.meta, base)) return "EXISTS";
        return this.#concat(slot, klen, value, mode === APPEND, now);
    }
    const exp = staleBits !== 0
      ? rows.meta[base + F_EXPTIME]
      : relativeExptime(exptime, this.#clock);
    if (!this.#items.rewrite(slot, value, flags, exp, now)) {
      if (mode === SET) this.#lru.unlink(slot);
      return "NO_MEMORY";
    }
    rows.meta[base + F_INFO] |= staleBits;
    return slot;
  }

  #concat(
    slot: number,
    klen: number,
    value: Uint8Array,
    append: boolean,
    now: number,
  ): number | StoreFailure {
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const oldLen = meta[base + F_VLEN];
    const addLen = value.length;
    const vlen = oldLen + addLen;
    if (itemSize(klen, meta[base + F_FLAGS], vlen, this.#rows.useCas) > this.#maxItemSize) {
      return "NOT_STORED";
    }
    const items = this.#items;
    // The new bytes must survive the old value being moved around.
    if (value.buffer === items.page(slot).buffer) value = value.slice();
    if (!items.reserve(slot, vlen, oldLen, now)) return "NO_MEMORY";
    const page = items.page(slot);
    const start = items.valueStart(slot);
    if (append) {
      page.set(value, start + oldLen);
    } else {
      page.copyWithin(start + addLen, start, start + oldLen);
      page.set(value, start);
    }
    page[start + vlen] = CR;
    page[start + vlen + 1] = LF;
    items.replaced(slot, vlen, now);
    return slot;
  }
  /** A classic incr or decr's result: the number the item now holds, or why there is none. */
  #number(result: number | MetaDeltaFailure): DeltaResult {
    if (typeof result !== "number") return result as DeltaResult;
    const start = this.#items.valueStart(result);
    // The digits just written, then at most the spaces padding them.
    return parseU64(this.#items.page(result), start, start + this.#items.valueLength(result))!;
  }

  /** do_add_delta: the item's slot once its number is changed, else why not. */
  #delta(
    key: Uint8Array,
    delta: bigint,
    incr: boolean,
    unique: number,
    countMiss: boolean,
  ): number | MetaDeltaFailure {
    checkKey(key);
    if (typeof delta !== "bigint" || delta < 0n || delta > U64_MASK) {
      throw new RangeError(`Cannot apply the delta: "${delta}" is not between 0 and 2^64 - 1`);
    }
    const now = this.#clock.now();
    const slot = this.#items.lookup(key, hashKey(key), now);
    const stats = this.#stats;
    if (slot < 0) {
      if (!countMiss) return "NOT_FOUND";
      if (incr) stats.incrMisses++;
      else stats.decrMisses++;
      return "NOT_FOUND";
    }
    const items = this.#items;
    const meta = this.#rows.meta;
    const base = slot * STRIDE;
    const vlen = meta[base + F_VLEN];
    let page = items.page(slot);
    let start = items.valueStart(slot);
    // memcached refuses an empty value before it compares a cas.
    if (vlen === 0) return "NON_NUMERIC";
    if (unique !== 0 && unique !== casAt(meta, base)) return "EXISTS";
    const current = parseU64(page, start, start + vlen);
    if (current === undefined) return "NON_NUMERIC";
    const result = incr ? (current + delta) & U64_MASK : delta > current ? 0n : current - delta;
    stats.byClass[classAt(meta, base) * C_COUNT + (incr ? C_INCR_HITS : C_DECR_HITS)]++;
    const digits = result.toString();
    const n = digits.length;
    if (n <= vlen) {
      // memcached writes in place, padding with spaces to the old length.
      for (let i = 0; i < n; i++) page[start + i] = digits.charCodeAt(i);
      page.fill(SPACE, start + n, start + vlen);
      setCas(meta, base, this.#rows.nextCas());
      this.#lru.bump(slot, now);
      return slot;
    }
    if (!items.reserve(slot, n, 0, now)) return "NO_MEMORY";
    page = items.page(slot);
    start = items.valueStart(slot);
    for (let i = 0; i < n; i++) page[start + i] = digits.charCodeAt(i);
    page[start + n] = CR;
    page[start + n + 1] = LF;
    items.replaced(slot, n, now);
    return slot;
  }
}

/** Checks a key's length as memcached's KEY_MAX_LENGTH bounds it; returns the length. */
function checkKey(key: Uint8Array): number {
  const n = key.length;
  if (n === 0 || n > MAX_KEY) {
    throw new RangeError(`Cannot use the key: its length "${n}" is not between 1 and 250 bytes`);
  }
  return n;
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create the store: ${name} "${value}" is not an integer of at least ${min}`,
    );
  }
}
