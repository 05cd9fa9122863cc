/**
 * The event loop of the epoll connection layer: one epoll set, polled from
 * JavaScript through FFI, that tells each socket's owner when it may read or
 * write. Busy, it polls without waiting and gives the isolate's event loop a
 * turn at least every millisecond, so timers, signals, TLS connections and an
 * in-process caller keep running; idle, it waits on a thread of its own and
 * leaves the isolate free.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import {
  EINTR,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLL_EVENT_SIZE,
  EPOLLIN,
  errnoError,
  libc,
} from "./_libc.ts";

/** Whoever owns a descriptor in the set: told its events as epoll reports them. */
export interface EpollWatcher {
  /** The descriptor became ready for `events` (an `EPOLL*` mask). */
  ready(events: number): void;
  /**
   * Told only once what the other events of its poll woke has run to its
   * next wait: a listener, so a client that left in the same poll has
   * closed before a new one is numbered and served.
   */
  readonly deferred?: boolean;
}

/** The most events one poll returns. */
const MAX_EVENTS = 256;
/**
 * Idle polls, each after a turn of the isolate (~1 µs), before the loop waits
 * on a thread: a wait there and back costs 20–35 µs, more than the gap
 * between a busy server's batches.
 */
const SPIN_POLLS = 32;

/** Tells `watcher` its events; a fault of its own is reported and costs the others nothing. */
function tell(watcher: EpollWatcher, events: number): void {
  try {
    watcher.ready(events);
  } catch (error) {
    console.error("The epoll loop caught an unexpected error from a socket's owner:", error);
  }
}

/** The longest a busy loop keeps the event loop waiting for its turn. */
const FULL_TURN_MS = 1;
/**
 * Microtask turns a busy loop gives between polls: enough for a connection woken by a read to
 * answer and wait again (its read, its read-ahead turn, its write).
 */
const MICROTASK_HOPS = 4;

function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An epoll set and the loop that polls it, until `close`. */
export class EpollLoop {
  #epfd: number;
  /** An eventfd in the set: written to wake a loop waiting on its thread. */
  #wake: number;
  #watchers: (EpollWatcher | undefined)[] = [];
  #events = new Uint8Array(EPOLL_EVENT_SIZE * MAX_EVENTS);
  /** The waiting thread's own buffer: the isolate reads it only once that wait is over. */
  #idleEvents = new Uint8Array(EPOLL_EVENT_SIZE * MAX_EVENTS);
  #words = new Uint32Array(this.#events.buffer);
  #idleWords = new Uint32Array(this.#idleEvents.buffer);
  #drain = new Uint8Array(8);
  #one = new Uint8Array(EPOLL_EVENT_SIZE);
  #oneView = new DataView(this.#one.buffer);
  #turns: (() => void)[] = [];
  #later: EpollWatcher[] = [];
  #laterEvents: number[] = [];
  #closed = false;
  /** Whether the loop waits on its thread, where only an event (or the eventfd) wakes it. */
  #waiting = false;
  #wakeWord = new BigUint64Array([1n]);
  /** Settles once the loop has stopped polling. */
  readonly done: Promise<void>;

  /** Creates the set and starts polling it. */
  constructor() {
    const { symbols, errno } = libc();
    this.#epfd = symbols.epoll_create1(0o2000000);
    if (this.#epfd < 0) throw errnoError(errno[0], "epoll_create1");
    // EFD_CLOEXEC | EFD_NONBLOCK
    this.#wake = symbols.eventfd(0, 0o2000000 | 0o4000);
    if (this.#wake < 0) throw errnoError(errno[0], "eventfd");
    this.#control(EPOLL_CTL_ADD, this.#wake, EPOLLIN);
    this.done = this.#run();
  }

  /** Adds `fd` to the set for `events`, reported to `watcher`. */
  add(fd: number, events: number, watcher: EpollWatcher): void {
    this.#control(EPOLL_CTL_ADD, fd, events);
    this.#watchers[fd] = watcher;
  }

  /** Changes the events `fd` is watched for. */
  modify(fd: number, events: number): void {
    this.#control(EPOLL_CTL_MOD, fd, events);
  }

  /** Takes `fd` out of the set, before it is closed. */
  remove(fd: number): void {
    // A closed set holds nothing any more.
    if (!this.#closed) this.#control(EPOLL_CTL_DEL, fd, 0);
    this.#watchers[fd] = undefined;
  }

  /** Resolves once the loop has polled again and told every ready socket: a connection's turn to wait. */
  turn(): Promise<void> {
    // A turn asked for while the loop waits for events would wait as long as they take.
    if (this.#waiting && this.#turns.length === 0) this.#wakeUp();
    return new Promise((resolve) => this.#turns.push(resolve));
  }

  /** Stops polling; the sockets in the set are their owners' to close. */
  async close(): Promise<void> {
    if (this.#closed) return this.done;
    this.#closed = true;
    this.#wakeUp();
    await this.done;
    const { symbols } = libc();
    symbols.close(this.#wake);
    symbols.close(this.#epfd);
  }

  #wakeUp(): void {
    const { symbols, errno } = libc();
    if (symbols.write(this.#wake, this.#wakeWord, 8) < 0) throw errnoError(errno[0], "write");
  }

  #control(op: number, fd: number, events: number): void {
    const { symbols, errno } = libc();
    const view = this.#oneView;
    view.setUint32(0, events >>> 0, true);
    view.setUint32(4, fd, true);
    view.setUint32(8, 0, true);
    if (symbols.epoll_ctl(this.#epfd, op, fd, this.#one) < 0) {
      throw errnoError(errno[0], "epoll_ctl");
    }
  }

  async #run(): Promise<void> {
    const { symbols, errno } = libc();
    let idle = 0;
    let lastTurn = 0;
    while (!this.#closed) {
      const n = symbols.epoll_wait(this.#epfd, this.#events, MAX_EVENTS, 0);
      if (n < 0) {
        if (errno[0] === EINTR) continue;
        throw errnoError(errno[0], "epoll_wait");
      }
      this.#dispatch(this.#words, n);
      const waited = this.#releaseTurns();
      if (n > 0 || waited) idle = 0;
      else if (++idle > SPIN_POLLS) {
        idle = 0;
        this.#waiting = true;
        const m = await symbols.epoll_wait_blocking(this.#epfd, this.#idleEvents, MAX_EVENTS, -1);
        this.#waiting = false;
        // A signal cut the wait short (errno is the waiting thread's): poll again.
        if (m > 0) this.#dispatch(this.#idleWords, m);
      }
      // Busy, what the events woke runs on to its next wait in a few microtasks (an edge not
      // reached yet is kept by its stream), and the event loop's turn waits up to a millisecond.
      if (n > 0 && this.#later.length === 0 && performance.now() - lastTurn < FULL_TURN_MS) {
        for (let i = 0; i < MICROTASK_HOPS; i++) await null;
        continue;
      }
      // A full turn: timers, signals, TLS connections and an in-process caller run, then accepts.
      await nextImmediate();
      lastTurn = performance.now();
      this.#runDeferred();
    }
  }

  /** Tells each ready descriptor's watcher; `words` holds the events, three words each. */
  #dispatch(words: Uint32Array, n: number): void {
    const watchers = this.#watchers;
    for (let i = 0; i < n; i++) {
      const fd = words[i * 3 + 1];
      if (fd === this.#wake) {
        libc().symbols.read(this.#wake, this.#drain, 8);
        continue;
      }
      const watcher = watchers[fd];
      if (watcher === undefined) continue;
      if (watcher.deferred) {
        this.#later.push(watcher);
        this.#laterEvents.push(words[i * 3]);
      } else tell(watcher, words[i * 3]);
    }
  }

  #runDeferred(): void {
    const later = this.#later, events = this.#laterEvents;
    for (let i = 0; i < later.length; i++) tell(later[i], events[i]);
    later.length = events.length = 0;
  }

  #releaseTurns(): boolean {
    const turns = this.#turns;
    if (turns.length === 0) return false;
    this.#turns = [];
    for (const resolve of turns) resolve();
    return true;
  }
}
