/**
 * `watch`: a connection that watches gets memcached's log lines for the
 * kinds it asked for, while other connections work. Ours beside Debian's
 * memcached, with what is time, a counter or a socket number masked.
 */

import assert from "node:assert/strict";
import {
  assertSameReplies,
  HAS_MEMCACHED,
  latin1,
  Listener,
  startOurs,
  warmUp,
} from "./_differential.ts";
import { exchange, type ServerProcess, startOurServer, startReference } from "./_servers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Masks what differs by nature: the clock and global counter that start
 * every line, client ports, socket numbers (numbered by first appearance),
 * seconds since an evicted item's last access, and the wrapped ttl of an
 * exptime in the past, which counts seconds since each process started.
 */
function normalizeLog(text: string): string {
  const sockets = new Map<string, string>();
  return text.replace(/ts=\d+\.\d+ gid=\d+ /g, "")
    .replace(/rport=\d+/g, "rport=<p>")
    .replace(/ la=\d+/g, " la=<t>")
    .replace(/ttl=42949\d{5}/g, "ttl=<past>")
    .replace(/cfd=(\d+)/g, (_, fd: string) => {
      if (!sockets.has(fd)) sockets.set(fd, `<s${sockets.size + 1}>`);
      return `cfd=${sockets.get(fd)}`;
    });
}

/** What a watcher of `kinds` sees while another connection sends `commands` and leaves. */
async function watched(port: number, kinds: string, commands: string): Promise<string> {
  const watcher = await Listener.open(port);
  try {
    await watcher.send(latin1(`watch ${kinds}\r\n`));
    await watcher.quiet(200);
    const actor = await Listener.open(port);
    await actor.send(latin1(commands));
    await actor.quiet(200);
    await actor.hangUp();
    await watcher.quiet(300);
    return watcher.reply;
  } finally {
    await watcher.hangUp();
  }
}

const COMMANDS = [
  "set a 0 0 1\r\nx\r\n",
  "set b\x01c 3 100 3\r\nabc\r\n",
  "get a b\x01c zz\r\n",
  "add a 0 0 1\r\ny\r\n",
  "append a 0 5 2\r\nzz\r\n",
  "prepend nope 0 0 1\r\nn\r\n",
  "replace nope 0 0 1\r\nn\r\n",
  "cas a 0 0 1 999\r\nq\r\n",
  "cas nope 0 0 1 1\r\nq\r\n",
  "gets a\r\ntouch a 10\r\nincr a 1\r\ndelete a\r\nget a\r\n",
  "set past 0 -1 1\r\np\r\nget past\r\n",
  "set f 0 0 1\r\nf\r\nflush_all\r\nget f\r\n",
  "ms m 2 T10\r\nhi\r\nms m 2 ME\r\nhi\r\nms m 2 MA\r\nhi\r\nms m 2 C999\r\nhi\r\n",
  "ms n 3 MR\r\nabc\r\nms m 2 I\r\nhi\r\nmd m\r\nma m\r\n",
  "mg nothing v\r\nquit\r\n",
].join("");

async function pair(args: string[]): Promise<[ServerProcess, ServerProcess]> {
  const reference = await startReference(args);
  const ours = await startOurs(args);
  await Promise.all([warmUp(reference.port), warmUp(ours.port)]);
  return [reference, ours];
}

Deno.test({
  name: "watch fetchers mutations connevents logs what memcached logs",
  ignore: !HAS_MEMCACHED,
  async fn() {
    const [reference, ours] = await pair([]);
    await using _r = reference;
    await using _o = ours;
    const kinds = "fetchers mutations connevents";
    const [theirs, mine] = await Promise.all([
      watched(reference.port, kinds, COMMANDS),
      watched(ours.port, kinds, COMMANDS),
    ]);
    assert.equal(normalizeLog(mine), normalizeLog(theirs));
    // Proof the comparison sees lines of every kind asked for.
    assert.match(
      mine,
      /^OK\r\n.*type=conn_new rip=127\.0\.0\.1 rport=\d+ transport=tcp cfd=\d+\n/s,
    );
    assert.match(mine, /type=item_get key=b%01c status=found clsid=1 cfd=\d+ size=3\n/);
    assert.match(
      mine,
      /type=item_store key=a status=stored cmd=append ttl=0 clsid=1 cfd=\d+ size=3\n/,
    );
    assert.match(
      mine,
      /type=item_store key=m status=exists cmd=cas ttl=0 clsid=1 cfd=\d+ size=2\n/,
    );
    assert.match(mine, /type=conn_close rip=127\.0\.0\.1 rport=\d+ transport=tcp reason=normal/);
  },
});

Deno.test({
  name:
    "watch alone watches fetchers; a watcher takes no commands; bad words and pipelining are refused",
  ignore: !HAS_MEMCACHED,
  async fn() {
    const [reference, ours] = await pair([]);
    await using _r = reference;
    await using _o = ours;
    const transcripts = [
      { name: "an unknown kind is ERROR", turns: ["watch fetchers nonsense\r\n", "version\r\n"] },
      {
        name: "watch after another reply in the same read is refused",
        turns: ["version\r\nwatch\r\n", "version\r\n"],
      },
      { name: "a watcher answers nothing", turns: ["watch\r\n", "version\r\nget k\r\n"] },
    ];
    for (const transcript of transcripts) await assertSameReplies(reference, ours, transcript);
    const [theirs, mine] = await Promise.all([
      watched(reference.port, "", COMMANDS),
      watched(ours.port, "", COMMANDS),
    ]);
    assert.equal(normalizeLog(mine), normalizeLog(theirs));
    assert.doesNotMatch(mine, /item_store|conn_new/);
  },
});

Deno.test({
  name: "watch evictions logs the evicted item as memcached does",
  ignore: !HAS_MEMCACHED,
  async fn() {
    const [reference, ours] = await pair(["-m", "2"]);
    await using _r = reference;
    await using _o = ours;
    const value = "v".repeat(100_000);
    const sets = Array.from(
      { length: 30 },
      (_, i) => `set e${i} 0 0 ${value.length}\r\n${value}\r\n`,
    )
      .join("");
    const [theirs, mine] = await Promise.all([
      watched(reference.port, "evictions", sets),
      watched(ours.port, "evictions", sets),
    ]);
    // memcached's -m counts pages differently, so the two may evict a different number.
    const first = (log: string) => normalizeLog(log).split("\n").slice(0, 2).join("\n");
    assert.equal(first(mine), first(theirs));
    assert.match(
      mine,
      /^OK\r\n.*type=eviction key=e0 fetch=no ttl=-1 la=\d+ clsid=32 size=100000\n/s,
    );
  },
});

Deno.test("a watcher that does not read loses lines and is told how many, with the server unharmed", async () => {
  await using ours = await startOurServer([]);
  const watcher = await Deno.connect({ hostname: "127.0.0.1", port: ours.port });
  let text = "";
  let reading: Promise<void> | undefined;
  try {
    await watcher.write(latin1("watch fetchers\r\n"));
    // Nothing is read yet: the lines pile up in the server's buffer for this watcher.
    // 40,000 misses of 250-byte keys make ~13 MB of lines: past the 256 KiB a watcher may hold
    // and what the sockets between hold.
    const key = "k".repeat(248);
    const batch = latin1(
      Array.from({ length: 1000 }, (_, i) => `get ${key}${i % 100}\r\n`).join(""),
    );
    for (let i = 0; i < 40; i++) await exchange(ours.port, batch, 20);
    reading = (async () => {
      const buf = new Uint8Array(1 << 16);
      for (let n; (n = await watcher.read(buf).catch(() => null)) !== null;) {
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
    })();
    await sleep(1000);
    const before = text.length;
    // memcached tells of skipped lines before the next line it can queue.
    await exchange(ours.port, latin1("get after\r\n"));
    for (const end = Date.now() + 10_000; !text.includes("key=after") && Date.now() < end;) {
      await sleep(20);
    }
    assert.match(text, /\nskipped=\d+\nts=\d+\.\d+ gid=\d+ type=item_get key=after /);
    assert.ok(before < 13_000_000, `the watcher got ${before} bytes: lines were not dropped`);
    assert.equal(
      new TextDecoder().decode(await exchange(ours.port, latin1("version\r\n"))),
      "VERSION 1.6.18\r\n",
    );
  } finally {
    watcher.close();
    await reading;
  }
});

/** The `log_` lines of `stats`, read on a connection of its own. */
async function logStats(port: number): Promise<string> {
  const reply = new TextDecoder().decode(await exchange(port, latin1("stats\r\n")));
  return reply.split("\r\n").filter((line) => line.startsWith("STAT log_")).join("\n");
}

Deno.test({
  name: "stats counts watchers and the lines logged and sent as memcached does",
  ignore: !HAS_MEMCACHED,
  async fn() {
    const [reference, ours] = await pair([]);
    await using _r = reference;
    await using _o = ours;
    const counts = async (port: number) => {
      const watcher = await Listener.open(port);
      try {
        await watcher.send(latin1("watch fetchers\r\n"));
        await watcher.quiet(200);
        await exchange(port, latin1("get a\r\nget b\r\nset x 0 0 1\r\nx\r\n"));
        // memcached's logger thread adds its counts to stats as it runs.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return await logStats(port);
      } finally {
        await watcher.hangUp();
      }
    };
    const [theirs, mine] = await Promise.all([counts(reference.port), counts(ours.port)]);
    assert.equal(mine, theirs);
    assert.match(mine, /STAT log_watcher_sent 3\nSTAT log_watchers 1$/);
  },
});
