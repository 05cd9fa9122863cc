/**
 * Connection floods for process-level tests: many connections opened at
 * once, each sorted by what the server did with it (served, or refused with
 * a line and a close), and what a server process holds (`/proc/<pid>`).
 *
 * @module
 */

const decoder = new TextDecoder("latin1");

/** memcached's line to a connection over `-c`, before it closes it. */
export const REFUSAL = "ERROR Too many open connections\r\n";

/** One connection of a flood, read from the moment it opened. */
class Probe {
  text = "";
  closed = false;
  readonly conn: Deno.Conn;
  readonly done: Promise<void>;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.done = this.#read();
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(1024);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.text += decoder.decode(buf.subarray(0, n));
      }
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) {
        // A reset is a close too; the text shows it cut the reply short.
        this.text += "<reset>";
      } else if (!(error instanceof Deno.errors.Interrupted)) {
        // Interrupted is the test closing a served connection; anything else is a failure.
        throw error;
      }
    }
    this.closed = true;
  }
}

/** What a flood found: the connections served (still open) and what every other one received. */
export interface FloodResult {
  /** Open connections that answered `version`; close them with {@linkcode closeAll}. */
  served: Deno.Conn[];
  /** For each connection the server closed, everything it sent first. */
  refusals: string[];
}

async function until(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`Cannot see ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Opens `count` connections to 127.0.0.1:`port`, `batch` at a time, holding
 * each open. Once the server has gone quiet, every connection still open is
 * asked `version`, so each ends up served or refused.
 */
export async function flood(port: number, count: number, batch = 100): Promise<FloodResult> {
  const probes: Probe[] = [];
  for (let i = 0; i < count; i += batch) {
    const conns = await Promise.all(
      Array.from(
        { length: Math.min(batch, count - i) },
        () => Deno.connect({ hostname: "127.0.0.1", port }),
      ),
    );
    probes.push(...conns.map((c) => new Probe(c)));
  }
  // Nothing is written until the refusals have come: a close with unread bytes would be a reset.
  let closed = -1;
  let quietSince = Date.now();
  await until("the refusals end", () => {
    const now = probes.filter((p) => p.closed).length;
    if (now !== closed) [closed, quietSince] = [now, Date.now()];
    return Date.now() - quietSince >= 500;
  }, 30_000);
  const open = probes.filter((p) => !p.closed);
  const ask = new TextEncoder().encode("version\r\n");
  await Promise.all(open.map((p) => p.conn.write(ask)));
  await until(
    "every open connection answer",
    () => open.every((p) => p.closed || p.text !== ""),
    15_000,
  );
  for (const p of open) {
    if (p.text !== "VERSION 1.6.18\r\n" || p.closed) {
      throw new Error(`Cannot sort a connection: it sent ${JSON.stringify(p.text)}`);
    }
  }
  return {
    served: open.map((p) => p.conn),
    refusals: probes.filter((p) => p.closed).map((p) => p.text),
  };
}

/** Closes connections a flood left open. */
export function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) conn.close();
}

/** How many file descriptors a process holds. */
export function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** CPU time a process has used, user and system, in clock ticks (1/100 s on Linux). */
export function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The fields after the command name's closing parenthesis start at the state, the third.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * A server's `stats`, by name, read on a connection of its own; undefined
 * when that connection is refused, as it is while the server is full.
 */
export async function serverStats(port: number): Promise<Map<string, string> | undefined> {
  const probe = new Probe(await Deno.connect({ hostname: "127.0.0.1", port }));
  try {
    await probe.conn.write(new TextEncoder().encode("stats\r\n"));
    await until("stats", () => probe.closed || probe.text.endsWith("END\r\n"), 10_000);
  } finally {
    if (!probe.closed) probe.conn.close();
    await probe.done;
  }
  if (probe.text === REFUSAL) return undefined;
  return new Map(
    probe.text.split("\r\n").filter((l) => l.startsWith("STAT ")).map((l) => {
      const [, name, value] = l.split(" ");
      return [name, value];
    }),
  );
}

/** Waits until `read()` gives `expected`, for at most `timeoutMs`; returns what it last gave. */
export async function settlesTo<T>(
  read: () => T | Promise<T>,
  expected: T,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/** What `read()` gives once it has given the same for 300 ms (at most 5 s). */
export async function steady<T>(read: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + 5000;
  let value = await read();
  let since = Date.now();
  while (Date.now() - since < 300 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const next = await read();
    if (next !== value) [value, since] = [next, Date.now()];
  }
  return value;
}
