/**
 * The SIGUSR1 check every way of starting the server must pass: memcached's
 * graceful stop, and Deno's inspector never opening on 127.0.0.1:9229.
 */
import assert from "node:assert/strict";
import { Wire } from "./_wire.ts";

export const INSPECTOR_PORT = 9229;

/** Whether anything accepts connections on 127.0.0.1:`port`. */
export async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
}

/** Fails unless nothing listens on the inspector's port, so the check below can mean something. */
export async function assertInspectorPortFree(): Promise<void> {
  assert.equal(
    await listening(INSPECTOR_PORT),
    false,
    `Cannot run the test: something already listens on ${INSPECTOR_PORT}`,
  );
}

/**
 * Sends SIGUSR1 to a server serving on `port` (its stderr piped) after its
 * first second, and asserts it stopped with memcached's words and exit 0
 * while nothing ever listened on the inspector's port.
 */
export async function assertSigusr1StopsGracefully(
  child: Deno.ChildProcess,
  port: number,
  how: string,
): Promise<void> {
  // Deno installs its own SIGUSR1 handler half a second after start.
  await new Promise((r) => setTimeout(r, 1200));
  {
    using wire = await Wire.connect(port);
    assert.equal(await wire.call("set k 0 0 1\r\nv\r\n"), "STORED\r\n");
  }
  child.kill("SIGUSR1");
  let inspector = false;
  let exited = false;
  child.status.then(() => exited = true);
  for (const deadline = Date.now() + 5000; !exited && Date.now() < deadline;) {
    inspector ||= await listening(INSPECTOR_PORT);
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!exited) child.kill("SIGKILL");
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  assert.equal(inspector, false, `${how}: the inspector opened on ${INSPECTOR_PORT}: ${stderr}`);
  assert.equal(status.code, 0, `${how}: ${stderr}`);
  assert.match(stderr, /^Gracefully stopping$/m, how);
  assert.doesNotMatch(stderr, /Debugger listening/, how);
}
