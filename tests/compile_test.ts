import assert from "node:assert/strict";
import { freePort } from "./_peers.ts";
import { Wire } from "./_wire.ts";
import { assertInspectorPortFree, assertSigusr1StopsGracefully } from "./_sigusr1.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

/** The binary `deno task compile` built, why it could not be built, or why the test cannot run here. */
type Build =
  | { kind: "built"; dir: string; binary: string }
  | { kind: "failed"; stderr: string }
  | { kind: "skipped"; reason: string };

/** Runs the same command as `deno task compile`, with the output in a temporary directory. */
async function compile(): Promise<Build> {
  const dir = await Deno.makeTempDir();
  const binary = `${dir}/memcached`;
  const task = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.compile as string;
  const args = task.replace(/^deno /, "").replace("dist/memcached", binary).split(" ");
  const built = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (built.success) return { kind: "built", dir, binary };
  await Deno.remove(dir, { recursive: true });
  const stderr = decoder.decode(built.stderr);
  // Only a refused runtime download, with no local runtime given, is this machine's limit and not ours.
  if (!Deno.env.get("DENORT_BIN") && /Download/.test(stderr)) {
    return {
      kind: "skipped",
      reason:
        "deno compile could not download its denort runtime; set DENORT_BIN to a local denort to run this test",
    };
  }
  return { kind: "failed", stderr };
}

// Built before the test is registered, so a machine that cannot build it reports the test ignored, not passed.
const build = await compile();
if (build.kind === "skipped") console.warn(`compile_test.ts ignored: ${build.reason}`);

Deno.test({
  name: "deno task compile builds one binary that serves memcached's protocol and stops on SIGUSR1",
  ignore: build.kind === "skipped",
  async fn() {
    if (build.kind !== "built") {
      assert.fail(build.kind === "failed" ? `deno compile failed:\n${build.stderr}` : build.reason);
    }
    const { dir, binary } = build;
    try {
      const version = await new Deno.Command(binary, { args: ["-V"], stdout: "piped" }).output();
      assert.equal(decoder.decode(version.stdout), "memcached 1.6.18\n");
      await assertInspectorPortFree();
      const port = freePort();
      const child = new Deno.Command(binary, {
        args: ["-p", String(port)],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let wire: Wire | undefined;
      for (let i = 0; i < 250 && wire === undefined; i++) {
        wire = await Wire.connect(port).catch(() => undefined);
        if (wire === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      if (wire === undefined) {
        child.kill("SIGKILL");
        await child.status;
        assert.fail(`the binary never listened: ${await new Response(child.stderr).text()}`);
      }
      {
        using connection = wire;
        assert.equal(await connection.call("set k 0 0 1\r\nx\r\n"), "STORED\r\n");
        assert.equal(await connection.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nx\r\nEND\r\n");
      }
      await assertSigusr1StopsGracefully(child, port, "the compiled binary");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
