import assert from "node:assert/strict";
import { freePort } from "./_peers.ts";
import { Wire } from "./_wire.ts";
import { assertInspectorPortFree, assertSigusr1StopsGracefully } from "./_sigusr1.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

Deno.test("deno task compile builds one binary that serves memcached's protocol and stops on SIGUSR1", async () => {
  const dir = await Deno.makeTempDir();
  const binary = `${dir}/memcached`;
  try {
    // The same command as `deno task compile`, with the output in a temporary directory.
    const task = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.compile as string;
    const args = task.replace(/^deno /, "").replace("dist/memcached", binary).split(" ");
    const built = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!built.success) {
      const stderr = decoder.decode(built.stderr);
      if (!Deno.env.get("DENORT_BIN") && /Download/.test(stderr)) {
        console.warn(
          "skipped: deno compile could not download its denort runtime; set DENORT_BIN to a local denort to run this test",
        );
        return;
      }
      assert.fail(`deno compile failed:\n${stderr}`);
    }
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
});
