import assert from "node:assert/strict";
import { hasMemcached, hasPeer } from "./_peers.ts";
import { freePort } from "./_peers.ts";
import { Wire } from "./_wire.ts";
import { assertInspectorPortFree, assertSigusr1StopsGracefully } from "./_sigusr1.ts";
import { runMemcached as theirs, runOurs as ours } from "./_cli_runs.ts";

const ENTRY = new URL("../server/mod.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`Cannot connect: nothing listens on ${port}`);
}

Deno.test("CLI -h prints the flags it supports and exits 0", async () => {
  const { code, stdout } = await ours(["-h"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "-p, --port",
      "-l, --listen",
      "-m, --memory-limit",
      "-c, --conn-limit",
      "-I, --max-item-size",
      "-M,",
      "-C,",
      "-A,",
      "-v,",
      "-P,",
      "-U,",
      "-t,",
      "-V,",
    ]
  ) {
    assert.ok(stdout.includes(flag), flag);
  }
  assert.ok(!stdout.includes("--enable-sasl"), "lists only what this server supports");
});

Deno.test("CLI -V prints the memcached version it follows", async () => {
  const { code, stdout } = await ours(["-V"]);
  assert.equal(code, 0);
  assert.equal(stdout, "memcached 1.6.18\n");
});

Deno.test("CLI refuses bad values with memcached's message and exit code", async () => {
  const cases = [
    ["-c", "0"],
    ["-c", "-5"],
    ["-t", "0"],
    ["-I", "256m"],
    ["-I", "512"],
    ["-I", "2g"],
    ["-m", "0"],
    ["-q"],
    ["--bogus"],
  ];
  const reference = hasMemcached();
  for (const args of cases) {
    const got = await ours([...args, "-p", "0"]);
    assert.notEqual(got.code, 0, args.join(" "));
    if (reference) {
      const want = await theirs([...args, "-p", "0", "-U", "0"]);
      // getopt names the program as it was invoked (argv[0]); compare the rest.
      want.stderr = want.stderr.replace(/^\S*memcached:/, "memcached:");
      assert.deepEqual({ code: got.code, stderr: got.stderr }, {
        code: want.code,
        stderr: want.stderr,
      }, args.join(" "));
    }
  }
});

Deno.test("CLI refuses UDP, which it does not serve", async () => {
  const { code, stderr } = await ours(["-U", "11211"]);
  assert.equal(code, 64);
  assert.match(stderr, /UDP is not supported/);
});

Deno.test("CLI serves on --port=, writes the -P pidfile and stops cleanly on SIGTERM and SIGINT", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const port = freePort();
    const pidFile = await Deno.makeTempFile();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        ENTRY,
        `--port=${port}`,
        "-P",
        pidFile,
        "-U",
        "0",
        "-t",
        "2",
        "-m",
        "8",
        "-c",
        "10",
        "-I",
        "2m",
        "-v",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await waitForPort(port);
    using wire = await Wire.connect(port);
    assert.equal(await wire.call("set k 0 0 1\r\nx\r\n"), "STORED\r\n");
    assert.match(
      await wire.call("stats settings\r\n", "END\r\n"),
      /STAT item_size_max 2097152\r\n/,
    );
    assert.equal((await Deno.readTextFile(pidFile)).trim(), String(child.pid));
    child.kill(signal);
    const status = await child.status;
    assert.equal(status.code, 0, signal);
    await child.stderr.cancel();
    await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound);
  }
});

Deno.test("CLI listens on 127.0.0.1 unless told otherwise", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ENTRY, "-p", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPort(port);
  using wire = await Wire.connect(port);
  assert.match(await wire.call("stats settings\r\n", "END\r\n"), /STAT inter 127\.0\.0\.1\r\n/);
  child.kill("SIGTERM");
  assert.equal((await child.status).code, 0);
});

/** Our server as `deno task start` runs it, on a free port; its stderr once it stops. */
async function startTask(
  extra: string[],
  runner = (task: string) => task,
): Promise<
  { port: number; child: Deno.ChildProcess; stop(signal?: Deno.Signal): Promise<string> }
> {
  const task = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
    .tasks.start as string;
  const port = freePort();
  const args = runner(task).replace(/^deno /, "").replace("server/mod.ts", ENTRY)
    .replace("-p 11211", `-p ${port}`).split(" ");
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, ...extra],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await waitForPort(port);
  return {
    port,
    child,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      const [status, stderr] = await Promise.all([
        child.status,
        new Response(child.stderr).text(),
      ]);
      assert.equal(status.code, 0, stderr);
      return stderr;
    },
  };
}

Deno.test("SIGUSR1 stops the server gracefully, as memcached, and never opens Deno's inspector", async () => {
  await assertInspectorPortFree();
  const pidFile = await Deno.makeTempFile();
  // As `deno task start` runs it, and as `deno run -A jsr:@x/memcache/server` does.
  for (
    const [how, runner, extra] of [
      ["deno task start", (task: string) => task, []],
      ["deno run -A", (task: string) => task.replace("--allow-net", "-A"), ["-P", pidFile]],
    ] as const
  ) {
    const server = await startTask([...extra], runner);
    await assertSigusr1StopsGracefully(server.child, server.port, how);
  }
  await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound, "the pidfile is removed");
});

Deno.test("SIGHUP leaves the server serving", async () => {
  const server = await startTask([]);
  await new Promise((r) => setTimeout(r, 1200));
  using wire = await Wire.connect(server.port);
  assert.equal(await wire.call("set k 0 0 1\r\nv\r\n"), "STORED\r\n");
  for (let i = 0; i < 2; i++) {
    server.child.kill("SIGHUP");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await wire.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nv\r\nEND\r\n");
  }
  assert.equal(await server.stop(), "");
});

Deno.test("deno task start serves with --allow-net alone, silently when stderr is no terminal", async () => {
  const server = await startTask([]);
  {
    using wire = await Wire.connect(server.port);
    assert.equal(await wire.call("set k 0 0 1\r\nv\r\n"), "STORED\r\n");
    assert.equal(await wire.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nv\r\nEND\r\n");
  }
  assert.equal(await server.stop(), "");
});

Deno.test("the server warns when it listens beyond loopback without TLS or auth", async () => {
  const server = await startTask(["-l", "0.0.0.0"]);
  const stderr = await server.stop();
  assert.match(
    stderr,
    new RegExp(
      `^warning: listening on 0\\.0\\.0\\.0:${server.port} beyond loopback with neither TLS nor authentication`,
    ),
  );
});

Deno.test("the server tells a terminal where it listens", async () => {
  if (!hasPeer("bsdutils", "script", ["--version"])) return;
  const port = freePort();
  // script(1) gives the server a terminal for stderr; timeout stops it after it has started.
  const command = `timeout -s TERM 3 ${Deno.execPath()} run --allow-net ${ENTRY} -p ${port}`;
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.match(
    decoder.decode(out.stdout),
    new RegExp(
      `memcached 1\\.6\\.18 \\(@x/memcache [\\d.]+\\) listening on 127\\.0\\.0\\.1:${port}`,
    ),
  );
});
