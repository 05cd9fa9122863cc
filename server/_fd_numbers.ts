/**
 * The numbers `stats conns`, `-vv` and `watch connevents` give connections,
 * as memcached's file descriptors run: each takes the lowest number free, so
 * memcached's own descriptors come first (3 to 5, and 4 for each worker
 * thread), then one per listener, then the clients, a closed client's number
 * going to the next one. Descriptors the process inherited open are skipped,
 * as memcached skips them.
 *
 * @module
 */

/** How many descriptors memcached 1.6.18 opens for itself with `threads` workers. */
function ownDescriptors(threads: number): number {
  return 3 + 4 * threads;
}

/**
 * Descriptors above stderr this process inherited from its parent: open, and
 * without close-on-exec, which every descriptor the runtime opens has.
 */
export function inheritedDescriptors(): Set<number> {
  const inherited = new Set<number>();
  const dir = "/proc/self/fdinfo";
  // Without /proc (or leave to read it) the numbers run as in a process that inherited none.
  if (
    Deno.build.os !== "linux" ||
    Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted"
  ) {
    return inherited;
  }
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (error) {
    // Deno lets only --allow-all read /proc/self, whatever --allow-read says.
    if (error instanceof Deno.errors.NotCapable) return inherited;
    throw error;
  }
  for (const entry of entries) {
    const fd = Number(entry.name);
    if (fd <= 2) continue;
    let info: string;
    try {
      info = Deno.readTextFileSync(`${dir}/${entry.name}`);
    } catch (error) {
      // The directory listing's own descriptor is closed by the time it is read.
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info);
    const closeOnExec = 0o2000000;
    if (flags !== null && (parseInt(flags[1], 8) & closeOnExec) === 0) inherited.add(fd);
  }
  return inherited;
}

/** Hands out the lowest free number, as the kernel hands out descriptors. */
export class FdNumbers {
  #next = 3;
  #taken: Set<number>;
  /** Numbers given back, highest first, so the lowest is popped. */
  #free: number[] = [];
  #listeners: number[] = [];

  /**
   * memcached's numbers with `threads` workers and `listeners` listeners,
   * skipping the `inherited` descriptors.
   */
  constructor(threads: number, listeners: number, inherited: ReadonlySet<number> = new Set()) {
    this.#taken = new Set(inherited);
    for (let i = 0; i < ownDescriptors(threads); i++) this.take();
    for (let i = 0; i < listeners; i++) this.#listeners.push(this.take());
  }

  /** The number of the `index`th listener. */
  listener(index: number): number {
    return this.#listeners[index];
  }

  /** The lowest free number. */
  take(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    while (this.#taken.has(this.#next)) this.#next++;
    return this.#next++;
  }

  /** Frees a number taken before. */
  give(n: number): void {
    const free = this.#free;
    let i = free.length;
    while (i > 0 && free[i - 1] < n) i--;
    free.splice(i, 0, n);
  }
}
