/**
 * Pages carved into size classes, as memcached's slabs.c: the store's item
 * bytes live here, and the memory limit counts the pages handed out. The
 * allocator knows chunks and their owners (slot numbers), not items.
 *
 * A chunk's first `headerSize` bytes are counted but not held in its page:
 * they are the item's row, kept beside the pages in typed arrays, so rows and
 * pages together stay within the limit as memcached's chunks do.
 *
 * @module
 */

/** memcached's `MAX_NUMBER_OF_SLAB_CLASSES - 1`: the most classes its sizing loop makes. */
const MAX_CLASSES = 63;
/** A page's class while it waits in the global pool. */
const POOLED = 0;
/** A page's class while its chunks are being emptied before it joins the pool. */
const DETACHED = -1;
const EMPTY_PAGE = new Uint8Array(0);
/** Sizes up to this map to a class through a lookup table. */
const TABLE_LIMIT = 1 << 20;
const EMPTY_OWNERS = new Int32Array(0);

/** How to size the classes and the memory limit. */
export interface SlabAllocatorOptions {
  /** Bytes of pages that may be handed out in total (memcached's `-m`). */
  maxBytes: number;
  /** Bytes in a page (memcached's `slab_page_size`). */
  pageSize: number;
  /** The smallest chunk (memcached's 48-byte item header plus `-n`). */
  minChunkSize: number;
  /** Each class's chunk is this many times the previous one (memcached's `-f`). */
  growthFactor: number;
  /** The largest chunk any item may need; above half a page it gets a class of its own. */
  maxItemSize: number;
  /**
   * Bytes of each chunk held outside its page (the item's row), counted
   * against `maxBytes` all the same.
   *
   * @default {0}
   */
  headerSize?: number;
  /**
   * The largest chunk (memcached's `slab_chunk_max`); an item above it takes
   * a class of its own.
   *
   * @default {pageSize / 2}
   */
  chunkMax?: number;
  /** Chunk sizes given outright (memcached's `slab_sizes`) instead of grown by `growthFactor`. */
  sizes?: readonly number[];
}

/** A chunk's key in the pin maps is `page * CHUNK_KEY + offset`: offsets stay below it. */
const CHUNK_KEY = 2 ** 32;

/** The chunk sizes memcached's `slabs_init` makes, ids from 1; index 0 is unused. */
export function slabClassSizes(options: SlabAllocatorOptions): number[] {
  const { pageSize, minChunkSize, growthFactor, maxItemSize, sizes: given } = options;
  const chunkMax = Math.min(options.chunkMax ?? Math.floor(pageSize / 2), maxItemSize);
  const sizes = [0];
  let size = minChunkSize;
  while (sizes.length < MAX_CLASSES) {
    if (given !== undefined) {
      if (sizes.length > given.length) break;
      size = given[sizes.length - 1];
    } else if (size >= chunkMax / growthFactor) break;
    if (size % 8 !== 0) size += 8 - (size % 8);
    sizes.push(size);
    // memcached keeps the size in an unsigned int, so the product truncates.
    if (given === undefined) size = Math.trunc(size * growthFactor);
  }
  sizes.push(chunkMax);
  // memcached chains chunks for items above slab_chunk_max; one contiguous
  // chunk per item keeps a value readable as a single view.
  if (maxItemSize > chunkMax) sizes.push(Math.ceil(maxItemSize / 8) * 8);
  return sizes;
}

/**
 * Hands out chunks of size classes from pages under a byte limit. Free
 * chunks of a class are reused first; a fresh page is carved lazily so its
 * untouched tail costs no resident memory.
 */
export class SlabAllocator {
  /** The highest class id; classes are numbered from 1. */
  readonly largest: number;
  /** Chunk size by class id. */
  readonly chunkSize: Int32Array;
  /** Chunks in one page by class id. */
  readonly perPage: Int32Array;
  /** Bytes in one page by class id (a page, or one chunk for a class bigger than a page), as counted. */
  readonly pageBytes: Float64Array;
  /** Bytes a chunk takes in its page by class id: its size less the header held outside. */
  readonly stride: Int32Array;
  /** The byte limit on pages handed out; `cache_memlimit` changes it live. */
  maxBytes: number;
  /** Bytes of pages handed out, the pool included (memcached's `total_malloced`). */
  memBytes = 0;
  /** Pages of some class with no chunk in use, free for another class to take. */
  emptyPages = 0;
  /** Page index of the chunk the last successful `alloc` returned. */
  allocPage = 0;
  /** Byte offset in its page of the chunk the last successful `alloc` returned. */
  allocOffset = 0;
  /** Page bytes by page index: a chunk of class c at `index * stride[c]`. */
  pages: Uint8Array[] = [];
  /** The owner (slot) of each carved chunk by page index, -1 when free. */
  owners: Int32Array[] = [];
  /** Class of each page; 0 while pooled, -1 while detached. */
  pageClass = new Int32Array(16);
  /** Chunks in use by page index. */
  pageUsed = new Int32Array(16);
  /** Chunks carved so far by page index. */
  pageCarved = new Int32Array(16);
  /** Pages held by each class. */
  readonly classPages: Int32Array;

  #free: Int32Array[] = [];
  #freeLen: Int32Array;
  #curPage: Int32Array;
  #sizeTable: Uint8Array;
  #tableLimit: number;
  #pool: number[] = [];
  #pins = new Map<number, number>();
  #pinnedPages = new Map<number, number>();
  #freedWhilePinned = new Set<number>();
  #deadPages: number[] = [];
  /** Bytes each page counts against the limit, by page index. */
  #counted: number[] = [];

  /** Builds the classes; no page is allocated until the first `alloc`. */
  constructor(options: SlabAllocatorOptions) {
    const sizes = slabClassSizes(options);
    const n = sizes.length;
    this.largest = n - 1;
    this.maxBytes = options.maxBytes;
    this.chunkSize = new Int32Array(sizes);
    this.perPage = new Int32Array(n);
    this.pageBytes = new Float64Array(n);
    // Classes too small for any item's header never hold one: their stride is 0.
    this.stride = new Int32Array(
      sizes.map((size) => Math.max(0, size - (options.headerSize ?? 0))),
    );
    for (let c = 1; c < n; c++) {
      const size = sizes[c];
      if (size <= options.pageSize) {
        this.perPage[c] = Math.floor(options.pageSize / size);
        this.pageBytes[c] = options.pageSize;
      } else {
        this.perPage[c] = 1;
        this.pageBytes[c] = size;
      }
      this.#free.push(EMPTY_OWNERS);
    }
    this.#free.push(EMPTY_OWNERS);
    this.#freeLen = new Int32Array(n);
    this.#curPage = new Int32Array(n).fill(-1);
    this.classPages = new Int32Array(n);
    // One table lookup maps a size, rounded up to 8, to its class; sizes past
    // the table (only with huge pages or items) take a binary search.
    this.#tableLimit = Math.min(sizes[n - 1], TABLE_LIMIT) & ~7;
    this.#sizeTable = new Uint8Array((this.#tableLimit >> 3) + 1);
    let c = 1;
    for (let k = 0; k < this.#sizeTable.length; k++) {
      while (sizes[c] < k * 8) c++;
      this.#sizeTable[k] = c;
    }
  }

  /** The class whose chunks hold `size` bytes, or 0 when none does. */
  classFor(size: number): number {
    if (size <= this.#tableLimit) return this.#sizeTable[(size + 7) >> 3];
    const sizes = this.chunkSize;
    if (size > sizes[this.largest]) return 0;
    let lo = 1;
    let hi = this.largest;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sizes[mid] < size) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Takes a chunk of class `cls` for `owner`: a free one, else one carved
   * from the class's newest page, else one from a new page.
   *
   * @param mayGrow Whether a new page may be taken for it.
   * @returns Whether a chunk was found; its place is in `allocPage`/`allocOffset`.
   */
  alloc(cls: number, owner: number, mayGrow = true): boolean {
    let page: number;
    let index: number;
    const n = this.#freeLen[cls];
    if (n > 0) {
      const stack = this.#free[cls];
      this.#freeLen[cls] = n - 2;
      page = stack[n - 2];
      index = stack[n - 1];
    } else {
      page = this.#curPage[cls];
      if (page < 0 || this.pageCarved[page] === this.perPage[cls]) {
        if (!mayGrow) return false;
        page = this.#newPage(cls);
        if (page < 0) return false;
      }
      index = this.pageCarved[page]++;
    }
    this.owners[page][index] = owner;
    if (this.pageUsed[page]++ === 0) this.emptyPages--;
    this.allocPage = page;
    this.allocOffset = index * this.stride[cls];
    return true;
  }

  /**
   * Keeps a chunk's bytes as they are while a write reads them, as
   * memcached's item refcount does: a chunk freed meanwhile goes back to its
   * class only at the last {@linkcode SlabAllocator.prototype.unpin}, and a
   * page holding it is never moved.
   */
  pin(page: number, offset: number): void {
    const chunk = page * CHUNK_KEY + offset;
    this.#pins.set(chunk, (this.#pins.get(chunk) ?? 0) + 1);
    this.#pinnedPages.set(page, (this.#pinnedPages.get(page) ?? 0) + 1);
  }

  /** Ends one {@linkcode SlabAllocator.prototype.pin}; frees the chunk if it was freed meanwhile. */
  unpin(page: number, offset: number): void {
    const chunk = page * CHUNK_KEY + offset;
    const pins = this.#pins.get(chunk)! - 1;
    const onPage = this.#pinnedPages.get(page)! - 1;
    if (onPage === 0) this.#pinnedPages.delete(page);
    else this.#pinnedPages.set(page, onPage);
    if (pins > 0) {
      this.#pins.set(chunk, pins);
      return;
    }
    this.#pins.delete(chunk);
    if (this.#freedWhilePinned.delete(chunk)) this.free(page, offset);
  }

  /** Whether a write is reading a chunk of the page. */
  pinnedPage(page: number): boolean {
    return this.#pinnedPages.size > 0 && this.#pinnedPages.has(page);
  }

  /** Whether a write is reading this chunk. */
  pinned(page: number, offset: number): boolean {
    return this.#pins.size > 0 && this.#pins.has(page * CHUNK_KEY + offset);
  }

  /** Gives a chunk back to its class (or just forgets it, on a detached page). */
  free(page: number, offset: number): void {
    if (this.#pins.size > 0 && this.#pins.has(page * CHUNK_KEY + offset)) {
      // Its item is gone, but a write still reads the bytes: they stay until unpinned.
      this.#freedWhilePinned.add(page * CHUNK_KEY + offset);
      // A page holding a pinned chunk is never detached, so its class is its own.
      this.owners[page][(offset / this.stride[this.pageClass[page]]) | 0] = -1;
      return;
    }
    const cls = this.pageClass[page];
    if (--this.pageUsed[page] === 0 && cls !== DETACHED) this.emptyPages++;
    if (cls === DETACHED) {
      this.owners[page][(offset / this.stride[this.#detachedFrom]) | 0] = -1;
      return;
    }
    const index = (offset / this.stride[cls]) | 0;
    this.owners[page][index] = -1;
    this.#pushFree(cls, page, index);
  }

  #pushFree(cls: number, page: number, index: number): void {
    let stack = this.#free[cls];
    const n = this.#freeLen[cls];
    if (n === stack.length) {
      const grown = new Int32Array(Math.max(64, n * 2));
      grown.set(stack);
      this.#free[cls] = stack = grown;
    }
    stack[n] = page;
    stack[n + 1] = index;
    this.#freeLen[cls] = n + 2;
  }

  /** The class's first page still held that no write reads (memcached's `slab_list[0]`), or -1. */
  firstPage(cls: number): number {
    for (let p = 0; p < this.pages.length; p++) {
      if (this.pageClass[p] === cls && !this.pinnedPage(p)) return p;
    }
    return -1;
  }

  /**
   * Gives class `cls` one more page, from the pool if one fits, carved into
   * free chunks at once as memcached's split_slab_page_into_freelist.
   *
   * @returns Whether the limit left room for it.
   */
  grantPage(cls: number): boolean {
    const current = this.#curPage[cls];
    const page = this.#newPage(cls);
    if (page < 0) return false;
    // The class keeps carving its current page; the new one is all free chunks.
    this.#curPage[cls] = current;
    const n = this.perPage[cls];
    for (let i = 0; i < n; i++) {
      this.owners[page][i] = -1;
      this.#pushFree(cls, page, i);
    }
    this.pageCarved[page] = n;
    return true;
  }

  /** Frees pooled pages while the pages handed out pass the limit (memcached's memory_release). */
  releasePool(): void {
    while (this.memBytes > this.maxBytes && this.#pool.length > 0) this.#release(this.#pool.pop()!);
  }

  #release(page: number): void {
    this.memBytes -= this.#counted[page];
    this.#counted[page] = 0;
    this.pages[page] = EMPTY_PAGE;
    this.owners[page] = EMPTY_OWNERS;
    this.#deadPages.push(page);
  }

  /** Free chunks of a class, carved or not (memcached's `free_chunks`). */
  freeChunks(cls: number): number {
    return (this.#freeLen[cls] >> 1) + this.freeChunksEnd(cls);
  }

  /** Chunks of the class's newest page not carved yet (memcached's `free_chunks_end`). */
  freeChunksEnd(cls: number): number {
    const page = this.#curPage[cls];
    return page < 0 ? 0 : this.perPage[cls] - this.pageCarved[page];
  }

  /** Whether a new page of class `cls` could be had without taking one from another class. */
  canGrow(cls: number): boolean {
    const bytes = this.pageBytes[cls];
    if (this.memBytes + bytes <= this.maxBytes) return true;
    let pooled = 0;
    for (const p of this.#pool) pooled += this.#counted[p];
    return this.memBytes - pooled + bytes <= this.maxBytes;
  }

  /** Pages currently holding chunks of some class (memcached's `active_slabs`). */
  get activePages(): number {
    let n = 0;
    for (let c = 1; c <= this.largest; c++) n += this.classPages[c];
    return n;
  }

  /** How many pages have been allocated or reused, for iterating `pageClass`. */
  get pageCount(): number {
    return this.pages.length;
  }

  #detachedFrom = 0;

  /**
   * Takes a page away from its class so its chunks can be emptied: its free
   * chunks leave the class's free list and nothing new is carved from it.
   * Only one page is detached at a time.
   *
   * @returns The class the page belonged to.
   */
  detachPage(page: number): number {
    const cls = this.pageClass[page];
    const stack = this.#free[cls];
    let n = 0;
    for (let i = 0; i < this.#freeLen[cls]; i += 2) {
      if (stack[i] !== page) {
        stack[n] = stack[i];
        stack[n + 1] = stack[i + 1];
        n += 2;
      }
    }
    this.#freeLen[cls] = n;
    if (this.#curPage[cls] === page) this.#curPage[cls] = -1;
    this.pageClass[page] = DETACHED;
    if (this.pageUsed[page] === 0) this.emptyPages--;
    this.#detachedFrom = cls;
    this.classPages[cls]--;
    return cls;
  }

  /** Puts an emptied, detached page in the global pool, where any class's next new page comes from. */
  poolPage(page: number): void {
    this.pageClass[page] = POOLED;
    this.#pool.push(page);
  }

  #newPage(cls: number): number {
    const bytes = this.pageBytes[cls];
    const held = this.perPage[cls] * this.stride[cls];
    let page = -1;
    for (let i = 0; i < this.#pool.length; i++) {
      if (this.#counted[this.#pool[i]] === bytes) {
        page = this.#pool[i];
        this.#pool.splice(i, 1);
        // A page carved for a class with a smaller stride holds too few bytes for this one.
        if (this.pages[page].length < held) this.pages[page] = new Uint8Array(held);
        break;
      }
    }
    if (page < 0) {
      // Pooled pages of another size give their memory back first.
      while (this.memBytes + bytes > this.maxBytes && this.#pool.length > 0) {
        this.#release(this.#pool.pop()!);
      }
      if (this.memBytes + bytes > this.maxBytes) return -1;
      page = this.#deadPages.length > 0 ? this.#deadPages.pop()! : this.pages.length;
      if (page === this.pages.length) {
        this.pages.push(EMPTY_PAGE);
        this.owners.push(EMPTY_OWNERS);
        this.#counted.push(0);
        if (page === this.pageClass.length) {
          this.pageClass = grow(this.pageClass);
          this.pageUsed = grow(this.pageUsed);
          this.pageCarved = grow(this.pageCarved);
        }
      }
      this.pages[page] = new Uint8Array(held);
      this.#counted[page] = bytes;
      this.memBytes += bytes;
    }
    this.owners[page] = new Int32Array(this.perPage[cls]);
    this.pageClass[page] = cls;
    this.pageUsed[page] = 0;
    this.pageCarved[page] = 0;
    this.#curPage[cls] = page;
    this.classPages[cls]++;
    this.emptyPages++;
    return page;
  }
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
