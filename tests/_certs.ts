/**
 * Test certificates made with `openssl`: a CA, a server certificate for
 * localhost and 127.0.0.1, a client certificate, a second server certificate
 * for refresh tests, and the ones that must be refused: signed by another CA,
 * or expired.
 *
 * @module
 */

import { hasPeer } from "./_peers.ts";

/** A certificate and its key, as files and as PEM text. */
export interface Pair {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/** Every certificate the TLS tests use; the directory goes with `await using`. */
export interface Certificates extends AsyncDisposable {
  dir: string;
  caFile: string;
  ca: string;
  /** A CA that signed none of the others. */
  otherCaFile: string;
  otherCa: string;
  server: Pair;
  /** Another server certificate from the same CA, to swap in. */
  server2: Pair;
  client: Pair;
  /** A client certificate from the other CA. */
  strangerClient: Pair;
  /** A server certificate from the CA that expired yesterday. */
  expiredServer: Pair;
  /** A client certificate from the CA that expired yesterday. */
  expiredClient: Pair;
}

/** Whether openssl is installed; TLS tests skip without it (and fail in CI). */
export function hasOpenssl(): boolean {
  return hasPeer("openssl", "openssl", ["version"]);
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `Cannot make a test certificate: openssl ${args.join(" ")}: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    ...KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
  ]);
}

async function makePair(
  dir: string,
  name: string,
  ca: string,
  extensions: string,
  days: number,
): Promise<Pair> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl(dir, [
    "req",
    ...KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    String(Math.floor(Math.random() * 2 ** 48)),
    "-days",
    String(days),
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
  const certFile = `${dir}/${name}.pem`;
  const keyFile = `${dir}/${name}.key`;
  return {
    certFile,
    keyFile,
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
  };
}

const SERVER_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
// rustls takes only v3 client certificates that say they are for clients.
const CLIENT_EXT = "extendedKeyUsage=clientAuth\n";

/** Makes a fresh set of certificates in a temporary directory. */
export async function makeCertificates(): Promise<Certificates> {
  const dir = await Deno.makeTempDir({ prefix: "memcache-tls-" });
  await Promise.all([makeCa(dir, "ca"), makeCa(dir, "other-ca")]);
  const [server, server2, client, strangerClient, expiredServer, expiredClient] = await Promise
    .all([
      makePair(dir, "server", "ca", SERVER_EXT, 2),
      makePair(dir, "server2", "ca", SERVER_EXT, 2),
      makePair(dir, "client", "ca", CLIENT_EXT, 2),
      makePair(dir, "stranger", "other-ca", CLIENT_EXT, 2),
      makePair(dir, "expired-server", "ca", SERVER_EXT, -1),
      makePair(dir, "expired-client", "ca", CLIENT_EXT, -1),
    ]);
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    ca: await Deno.readTextFile(`${dir}/ca.pem`),
    otherCaFile: `${dir}/other-ca.pem`,
    otherCa: await Deno.readTextFile(`${dir}/other-ca.pem`),
    server,
    server2,
    client,
    strangerClient,
    expiredServer,
    expiredClient,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** memcached's `-Z -o ...` flags for a server certificate, and more `-o` settings. */
export function tlsFlags(pair: Pair, more: string[] = []): string[] {
  return [
    "-Z",
    "-o",
    [`ssl_chain_cert=${pair.certFile}`, `ssl_key=${pair.keyFile}`, ...more].join(","),
  ];
}
