/**
 * TLS as memcached's `-Z` does it: the differential transcripts over TLS
 * against Debian's `memcached -Z`, other TLS clients (pymemcache,
 * `openssl s_client`, ours), client certificates, refused certificates on
 * both sides, `refresh_certs` and SIGHUP, `notls:` listeners and the `-o`
 * settings' messages. Certificates come from `openssl` (`_certs.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Client, ConnectionError } from "../client/mod.ts";
import type { ServeTlsOptions } from "../server/mod.ts";
import { serve } from "./_layer.ts";
import { type Certificates, hasOpenssl, makeCertificates, type Pair, tlsFlags } from "./_certs.ts";
import {
  assertSameReplies,
  type Dial,
  flushAll,
  HAS_MEMCACHED,
  normalize,
  type Normalizer,
  startOurs,
  warmUp,
} from "./_differential.ts";
import { normalizeMeta } from "./_meta_normalize.ts";
import { GROUPS, type TranscriptGroup, type Turn } from "./_transcripts.ts";
import { META_GROUPS } from "./_meta_transcripts.ts";
import { type ServerProcess, startReference } from "./_servers.ts";
import { DEBIAN_PYTHON, hasPythonModule } from "./_peers.ts";
import { Wire } from "./_wire.ts";
import { runMemcached, runOurs } from "./_cli_runs.ts";

const HAS_OPENSSL = hasOpenssl();

/**
 * Over TLS a transcript whose last turn ends a line gets a `version` turn
 * after it: after a value it swallows (too large), memcached -Z leaves the
 * commands behind it in OpenSSL's buffer until more bytes arrive (measured:
 * `get k` after the swallowed value is answered only once `version`
 * follows). The replies are compared whole, so ours, which answers at once,
 * must still match byte for byte. One that ends inside a data block would
 * take the nudge as data, and needs none: nothing follows the block.
 */
const NUDGE = "version\r\n";

function nudged(turns: Turn[]): Turn[] {
  const last = turns.at(-1);
  const text = typeof last === "string" ? last : Array.isArray(last) ? last.at(-1) : undefined;
  return text?.endsWith("\r\n") ? [...turns, NUDGE] : turns;
}

function tlsDial(ca: string): Dial {
  return async (port) => {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
    await conn.handshake();
    return conn;
  };
}

function dialing(server: ServerProcess, dial: Dial): ServerProcess {
  return { ...server, dial };
}

/** Serves in this process with TLS from `pair`, and more TLS settings. */
async function serveTls(pair: Pair, more: Partial<ServeTlsOptions> = {}) {
  const server = serve({
    port: 0,
    tls: { chainCertFile: pair.certFile, keyFile: pair.keyFile, ...more },
  });
  await server.ready;
  return server;
}

/** A stats value read over a fresh TLS connection. */
async function tlsStat(port: number, ca: string, name: string): Promise<string> {
  using wire = await Wire.connectTls(port, { caCerts: [ca] });
  const stats = await wire.call("stats\r\n", "END\r\n");
  const value = new RegExp(`^STAT ${name} (\\S+)\r$`, "m").exec(stats)?.[1];
  assert.ok(value !== undefined, `no ${name} in stats`);
  return value;
}

Deno.test({
  name: "over TLS our server answers the classic and meta transcripts as memcached -Z does",
  ignore: !HAS_MEMCACHED || !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    const dial = tlsDial(certs.ca);
    const groups: [TranscriptGroup, Normalizer][] = [
      ...GROUPS.map((g) => [g, normalize] as [TranscriptGroup, Normalizer]),
      ...META_GROUPS.map((g) => [g, normalizeMeta] as [TranscriptGroup, Normalizer]),
    ];
    // The groups run side by side, each on its own pair of servers, since the harness waits out silences.
    const results = await Promise.allSettled(groups.map(async ([group, normalizer]) => {
      const args = [...group.args, ...tlsFlags(certs.server)];
      await using reference = dialing(await startReference(args), dial);
      await using ours = dialing(await startOurs(args), dial);
      await Promise.all([warmUp(reference.port, dial), warmUp(ours.port, dial)]);
      for (const transcript of group.transcripts) {
        const turns = nudged(transcript.turns);
        if (group.flushBefore) {
          await Promise.all([flushAll(reference.port, dial), flushAll(ours.port, dial)]);
        }
        try {
          await assertSameReplies(reference, ours, { ...transcript, turns }, normalizer);
        } catch (error) {
          throw new Error(`${group.name} / ${transcript.name}: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
    }));
    const failures = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    if (failures.length > 0) throw new AggregateError(failures, failures.map(String).join("\n"));
  },
});

Deno.test({
  name:
    "pymemcache with a tls_context, openssl s_client and our client work against our TLS server",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using server = await serveTls(certs.server);
    const { port } = server.addr;
    await using client = new Client([`127.0.0.1:${port}`], { tls: { caCerts: [certs.ca] } });
    assert.equal(await client.set("from-deno", "hello"), true);

    if (hasPythonModule("pymemcache")) {
      const script = `
import ssl, sys
from pymemcache.client.base import Client
context = ssl.create_default_context(cafile=sys.argv[2])
client = Client(("127.0.0.1", int(sys.argv[1])), tls_context=context)
client.set("from-python", b"bonjour")
print(client.get("from-deno").decode())
`;
      const out = await new Deno.Command(DEBIAN_PYTHON, {
        args: ["-c", script, String(port), certs.caFile],
      }).output();
      assert.equal(new TextDecoder().decode(out.stderr), "");
      assert.equal(new TextDecoder().decode(out.stdout), "hello\n");
      // pymemcache stores bytes with flags 0, which read back as bytes.
      assert.deepEqual(await client.get("from-python"), new TextEncoder().encode("bonjour"));
    }

    const reply = await sClient(port, ["-CAfile", certs.caFile], "get from-deno\r\n", "END\r\n");
    assert.equal(reply.code, 0, reply.stderr);
    // Flag 16: python-memcached's text, which our client writes too.
    assert.equal(reply.stdout, "VALUE from-deno 16 5\r\nhello\r\nEND\r\n");
  },
});

/**
 * Runs `openssl s_client` against 127.0.0.1:`port`, writing `input`, and
 * hangs up once the output ends with `until` (or after 5 s): s_client stops
 * reading at the end of its input.
 */
async function sClient(port: number, args: string[], input: string, until = "\n") {
  const child = new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-verify_return_error",
      "-quiet",
      "-no_ign_eof",
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const decoder = new TextDecoder();
  const deadline = Date.now() + 5000;
  for await (const chunk of child.stdout) {
    stdout += decoder.decode(chunk, { stream: true });
    if (stdout.endsWith(until) || Date.now() > deadline) break;
  }
  await writer.close().catch((error) => {
    // s_client may have exited already, after a refused handshake.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  });
  const status = await child.status;
  return { code: status.code, stdout, stderr: await stderr };
}

/** Whether a client with these TLS settings can store and fetch through the server on `port`. */
async function clientWorks(port: number, tls: ConstructorParameters<typeof Client>[1]) {
  await using client = new Client([`127.0.0.1:${port}`], tls);
  try {
    await client.set("k", "v");
    return await client.get("k") === "v";
  } catch (error) {
    assert.ok(error instanceof ConnectionError, String(error));
    return false;
  }
}

Deno.test({
  name: "with ssl_verify_mode 2 only clients with a valid certificate from the CA get in",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using server = await serveTls(certs.server, {
      caCertFile: certs.caFile,
      verifyMode: 2,
    });
    const { port } = server.addr;
    const withCert = (pair: Pair) => ({
      tls: { caCerts: [certs.ca], certChain: pair.cert, privateKey: pair.key },
    });
    assert.equal(await clientWorks(port, withCert(certs.client)), true);
    const before = Number(await tlsTrustedStat(port, certs, "ssl_handshake_errors"));
    assert.equal(await clientWorks(port, { tls: { caCerts: [certs.ca] } }), false);
    assert.equal(await clientWorks(port, withCert(certs.strangerClient)), false);
    assert.equal(await clientWorks(port, withCert(certs.expiredClient)), false);
    const after = Number(await tlsTrustedStat(port, certs, "ssl_handshake_errors"));
    assert.equal(after - before, 3, "each refused client is a handshake error");

    const ok = await sClient(
      port,
      ["-CAfile", certs.caFile, "-cert", certs.client.certFile, "-key", certs.client.keyFile],
      "version\r\n",
    );
    assert.equal(ok.stdout, "VERSION 1.6.18\r\n");

    if (hasPythonModule("pymemcache")) {
      const script = `
import ssl, sys
from pymemcache.client.base import Client
context = ssl.create_default_context(cafile=sys.argv[2])
context.load_cert_chain(sys.argv[3], sys.argv[4])
print(Client(("127.0.0.1", int(sys.argv[1])), tls_context=context).get("k").decode())
`;
      const out = await new Deno.Command(DEBIAN_PYTHON, {
        args: [
          "-c",
          script,
          String(port),
          certs.caFile,
          certs.client.certFile,
          certs.client.keyFile,
        ],
      }).output();
      assert.equal(new TextDecoder().decode(out.stdout), "v\n");
    }
  },
});

Deno.test({
  name:
    "with ssl_verify_mode 1 a client without a certificate gets in, one with a bad certificate does not",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using server = await serveTls(certs.server, { caCertFile: certs.caFile, verifyMode: 1 });
    const { port } = server.addr;
    const withCert = (pair: Pair) => ({
      tls: { caCerts: [certs.ca], certChain: pair.cert, privateKey: pair.key },
    });
    assert.equal(await clientWorks(port, { tls: { caCerts: [certs.ca] } }), true);
    assert.equal(await clientWorks(port, withCert(certs.client)), true);
    assert.equal(await clientWorks(port, withCert(certs.strangerClient)), false);
    assert.equal(await clientWorks(port, withCert(certs.expiredClient)), false);
  },
});

/** A stats value, read over a connection with the trusted client certificate. */
async function tlsTrustedStat(port: number, certs: Certificates, name: string) {
  using wire = await Wire.connectTls(port, {
    caCerts: [certs.ca],
    cert: certs.client.cert,
    key: certs.client.key,
  });
  const stats = await wire.call("stats\r\n", "END\r\n");
  return new RegExp(`^STAT ${name} (\\S+)\r$`, "m").exec(stats)?.[1];
}

Deno.test({
  name: "with ssl_verify_mode 2 memcached -Z takes our client's certificate and refuses it without",
  ignore: !HAS_MEMCACHED || !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using memcached = await startReference(
      tlsFlags(certs.server, [`ssl_ca_cert=${certs.caFile}`, "ssl_verify_mode=2"]),
    );
    const tls = { caCerts: [certs.ca], certChain: certs.client.cert, privateKey: certs.client.key };
    assert.equal(await clientWorks(memcached.port, { tls }), true);
    assert.equal(await clientWorks(memcached.port, { tls: { caCerts: [certs.ca] } }), false);
  },
});

Deno.test({
  name: "clients refuse our server's certificate when it is expired or from a CA they do not trust",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    {
      await using server = await serveTls(certs.expiredServer);
      const { port } = server.addr;
      assert.equal(await clientWorks(port, { tls: { caCerts: [certs.ca] } }), false);
      const reply = await sClient(port, ["-CAfile", certs.caFile], "version\r\n");
      assert.notEqual(reply.code, 0);
      assert.match(reply.stderr, /certificate has expired/);
    }
    {
      await using server = await serveTls(certs.server);
      const { port } = server.addr;
      assert.equal(await clientWorks(port, { tls: { caCerts: [certs.otherCa] } }), false);
      const reply = await sClient(port, ["-CAfile", certs.otherCaFile], "version\r\n");
      assert.notEqual(reply.code, 0);
      assert.match(reply.stderr, /unable to get local issuer certificate/);
    }
  },
});

Deno.test({
  name:
    "a plaintext client on a TLS port gets no reply, is closed, and counts as a handshake error",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using server = await serveTls(certs.server);
    const { port } = server.addr;
    const before = Number(await tlsStat(port, certs.ca, "ssl_handshake_errors"));
    using plain = await Wire.connect(port);
    await plain.send("set k 0 0 1\r\nx\r\nversion\r\n");
    // Deno's TLS sends an alert record before closing, where memcached's OpenSSL resets.
    const sent = await plain.readToClose();
    assert.doesNotMatch(sent, /STORED|VERSION|ERROR/);
    const after = Number(await tlsStat(port, certs.ca, "ssl_handshake_errors"));
    assert.equal(after - before, 1);
    using wire = await Wire.connectTls(port, { caCerts: [certs.ca] });
    assert.equal(await wire.call("get k\r\n"), "END\r\n", "nothing it sent was taken as a command");
  },
});

Deno.test({
  name: "ssl_session_cache counts sessions made in full, and ssl_wbuf_size bounds each TLS write",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using server = await serveTls(certs.server, {
      sessionCache: true,
      writeBufferSize: 1024,
    });
    const { port } = server.addr;
    const before = Number(await tlsStat(port, certs.ca, "ssl_new_sessions"));
    // s_client connects six times, resuming its first TLS 1.2 session the other five.
    const out = await new Deno.Command("openssl", {
      args: [
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-CAfile",
        certs.caFile,
        "-tls1_2",
        "-reconnect",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const reused = new TextDecoder().decode(out.stdout).match(/^Reused,/gm)?.length ?? 0;
    assert.equal(reused, 5);
    const after = Number(await tlsStat(port, certs.ca, "ssl_new_sessions"));
    // The first stats connection counts too: it made its session in full.
    assert.equal(after - before, 2);

    await using client = new Client([`127.0.0.1:${port}`], { tls: { caCerts: [certs.ca] } });
    const value = "v".repeat(300_000) + "end";
    assert.equal(await client.set("big", value), true);
    assert.equal(await client.get("big"), value);
  },
});

/** The subject CN of the certificate the server on `port` shows now. */
async function servedCommonName(port: number, caFile: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", caFile, "-verify_return_error"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const subject = /^subject=.*CN ?= ?([\w-]+)/m.exec(new TextDecoder().decode(out.stdout));
  assert.ok(subject !== null, "openssl s_client printed no subject");
  return subject[1];
}

Deno.test({
  name:
    "refresh_certs and SIGHUP load new certificates for new connections; open ones keep working",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    const live: Pair = {
      ...certs.server,
      certFile: `${certs.dir}/live.pem`,
      keyFile: `${certs.dir}/live.key`,
    };
    const install = async (pair: Pair) => {
      await Deno.copyFile(pair.certFile, live.certFile);
      await Deno.copyFile(pair.keyFile, live.keyFile);
    };
    await install(certs.server);
    await using server = await startOurs(tlsFlags(live));
    const { port } = server;
    assert.equal(await servedCommonName(port, certs.caFile), "server");
    using open = await Wire.connectTls(port, { caCerts: [certs.ca] });
    assert.equal(await open.call("set k 0 0 1\r\nx\r\n"), "STORED\r\n");

    await install(certs.server2);
    assert.equal(await open.call("refresh_certs\r\n"), "OK\r\n");
    assert.equal(await servedCommonName(port, certs.caFile), "server2");
    assert.equal(await open.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nx\r\nEND\r\n");
    assert.match(
      await open.call("stats\r\n", "END\r\n"),
      /STAT time_since_server_cert_refresh [01]\r\n/,
    );

    await install(certs.server);
    server.process.kill("SIGHUP");
    let name = "";
    for (let i = 0; i < 100 && name !== "server"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      name = await servedCommonName(port, certs.caFile);
    }
    assert.equal(name, "server");
    assert.equal(await open.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nx\r\nEND\r\n");

    // A file that no longer loads: memcached's error line, and the old certificate stays.
    await Deno.writeTextFile(live.certFile, "not a certificate\n");
    const failed = await open.call("refresh_certs\r\n");
    assert.ok(
      failed.startsWith(`Error loading the certificate chain: ${live.certFile} : `),
      failed,
    );
    assert.equal(await servedCommonName(port, certs.caFile), "server");
  },
});

Deno.test({
  name: "refresh_certs fails with memcached's words when a file no longer loads",
  ignore: !HAS_MEMCACHED || !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    const replies = [];
    for (const start of [startReference, startOurs]) {
      const cert = `${certs.dir}/${start.name}.pem`;
      await Deno.copyFile(certs.server.certFile, cert);
      await using server = await start(tlsFlags({ ...certs.server, certFile: cert }));
      using wire = await Wire.connectTls(server.port, { caCerts: [certs.ca] });
      await Deno.remove(cert);
      const reply = await wire.call("refresh_certs\r\nrefresh_certs noreply\r\nversion\r\n");
      const more = reply.endsWith("VERSION 1.6.18\r\n")
        ? ""
        : await wire.readUntil("VERSION 1.6.18\r\n");
      // After the path, OpenSSL's words and Deno's differ.
      replies.push((reply + more).replace(/(chain: )\S+ : [^\r]*/g, "$1<path> : <reason>"));
    }
    assert.equal(replies[1], replies[0]);
  },
});

Deno.test({
  name: "-l notls: keeps one listener plain beside a TLS one",
  ignore: !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    await using server = serve({
      hostname: "notls:127.0.0.1:0,127.0.0.1:0",
      tls: { chainCertFile: certs.server.certFile, keyFile: certs.server.keyFile },
    });
    await server.ready;
    const [plainAddr, tlsAddr] = server.addrs;
    using plain = await Wire.connect(plainAddr.port);
    assert.equal(await plain.call("version\r\n"), "VERSION 1.6.18\r\n");
    using secure = await Wire.connectTls(tlsAddr.port, { caCerts: [certs.ca] });
    assert.equal(await secure.call("version\r\n"), "VERSION 1.6.18\r\n");
    const conns = await secure.call("stats conns\r\n", "END\r\n");
    assert.match(conns, new RegExp(`STAT \\d+:addr tcp:127\\.0\\.0\\.1:${plainAddr.port}\r\n`));
    assert.match(conns, new RegExp(`STAT \\d+:addr tcp:127\\.0\\.0\\.1:${tlsAddr.port}\r\n`));
  },
});

Deno.test({
  name: "TLS flags are refused with memcached's messages and exit codes",
  ignore: !HAS_MEMCACHED || !HAS_OPENSSL,
  async fn() {
    await using certs = await makeCertificates();
    const { certFile, keyFile } = certs.server;
    const cases = [
      ["-Z"],
      ["-Z", "-o", `ssl_chain_cert=${certFile}`],
      ["-Z", "-o", `ssl_chain_cert=${certFile},ssl_key=${certs.client.keyFile}`],
      ["-Z", "-o", `ssl_chain_cert=${certs.dir}/missing.pem,ssl_key=${keyFile}`],
      ["-Z", "-o", `ssl_chain_cert=${keyFile},ssl_key=${keyFile}`],
      ["-Z", "-o", `ssl_chain_cert=${certFile},ssl_key=${keyFile},ssl_ca_cert=${certs.dir}/no`],
      ["-Z", "-p", "0", "-o", `ssl_chain_cert=${certFile},ssl_key=${keyFile}`],
      ["-o", "ssl_verify_mode=5"],
      ["-o", "ssl_verify_mode=x"],
      ["-o", "ssl_verify_mode"],
      ["-o", "ssl_min_version=4"],
      ["-o", "ssl_ciphers"],
      ["-o", "ssl_bogus=1"],
      ["-o", `ssl_chain_cert=${certFile}`, "-o", "ssl_verify_mode=9"],
      ["-l", "notls:127.0.0.1:11999"],
    ];
    for (const args of cases) {
      const [got, want] = await Promise.all([runOurs(args), runMemcached(["-U", "0", ...args])]);
      // memcached prints OpenSSL's error queue before its line; the words after the path are OpenSSL's.
      const line = (stderr: string) =>
        stderr.split(/\r?\n/).filter((l) => l !== "" && !/^[0-9A-F]{16}:error:/.test(l))
          .map((l) => l.replace(/^(Error loading [^:]*: \S+ : ).*/, "$1<reason>"))[0] ?? "";
      assert.deepEqual(
        { code: got.code, stdout: got.stdout, stderr: line(got.stderr) },
        { code: want.code, stdout: want.stdout, stderr: line(want.stderr) },
        args.join(" "),
      );
    }
  },
});

Deno.test({
  name: "TLS settings this runtime cannot serve are refused with a message",
  async fn() {
    for (
      const [option, message] of [
        ["ssl_min_version=0", /Deno's TLS speaks TLS 1\.2 and 1\.3 only/],
        ["ssl_min_version=1", /Deno's TLS speaks TLS 1\.2 and 1\.3 only/],
        ["ssl_ciphers=HIGH", /Error setting the provided cipher\(s\): HIGH/],
        ["ssl_keyformat=0", /keys are PEM files/],
        ["ssl_kernel_tls", /Kernel TLS offload is not available/],
      ] as const
    ) {
      const got = await runOurs(["-o", option]);
      assert.equal(got.code, 64, option);
      assert.match(got.stderr, message);
    }
  },
});
