/**
 * TLS as memcached's tls.c does it (`-Z` and the `ssl_*` options): the
 * certificate chain, key and client CA read from their files, reread by
 * `refresh_certs` and SIGHUP for the connections that come after, and the
 * client certificate checks of `ssl_verify_mode`. It serves through
 * `node:tls`, whose servers can ask for and verify client certificates and
 * change their certificate without closing, where `Deno.listenTls` can do
 * neither.
 *
 * @module
 */

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import tls from "node:tls";
import type { ServeTlsOptions } from "./_types.ts";

/** A certificate, key or CA file that could not be loaded when the server starts. */
export class TlsCertificateError extends Error {
  override name = "TlsCertificateError";
}

/** The settings `stats settings` shows for TLS, with memcached's defaults. */
export interface TlsSettings {
  chainCert: string | undefined;
  key: string | undefined;
  caCert: string | undefined;
  verifyMode: number;
  minVersion: "tlsv1.2" | "tlsv1.3";
  sessionCache: boolean;
  writeBufferSize: number;
}

/** The settings of a server without TLS, as memcached 1.6.18 prints them. */
export const NO_TLS: TlsSettings = {
  chainCert: undefined,
  key: undefined,
  caCert: undefined,
  verifyMode: 0,
  minVersion: "tlsv1.2",
  sessionCache: false,
  writeBufferSize: 16 * 1024,
};

/**
 * A server's TLS: its settings, the context new connections get, and the
 * handshakes that failed (`ssl_handshake_errors`).
 */
export class ServerTls {
  readonly settings: TlsSettings;
  /** Handshakes that failed: a plaintext client, a refused certificate. */
  handshakeErrors = 0;
  /** Sessions negotiated in full rather than resumed, counted with `ssl_session_cache` (`ssl_new_sessions`). */
  newSessions = 0;
  /** When the certificates were last loaded, on the server's relative clock. */
  lastRefresh: number;
  #context: tls.SecureContextOptions;
  #servers = new Set<tls.Server>();

  /**
   * Loads the certificates; the server does not start when they cannot be.
   *
   * @param options The certificate files and checks.
   * @throws {TlsCertificateError} With memcached's message, when a file cannot be loaded.
   */
  constructor(options: ServeTlsOptions) {
    this.settings = {
      chainCert: options.chainCertFile,
      key: options.keyFile,
      caCert: options.caCertFile,
      verifyMode: options.verifyMode ?? 0,
      minVersion: options.minVersion === "TLSv1.3" ? "tlsv1.3" : "tlsv1.2",
      sessionCache: options.sessionCache ?? false,
      writeBufferSize: options.writeBufferSize ?? 16 * 1024,
    };
    const loaded = this.#load();
    if (typeof loaded === "string") throw new TlsCertificateError(loaded);
    this.#context = loaded;
    // memcached loads them before its clock starts: at relative time 0.
    this.lastRefresh = 0;
  }

  /**
   * Rereads the certificate chain, key and CA, as `refresh_certs`: new
   * connections get them, open ones keep theirs.
   *
   * @param now The relative clock's reading.
   * @returns undefined when done, else memcached's error line.
   */
  refresh(now: number): string | undefined {
    const loaded = this.#load();
    if (typeof loaded === "string") return loaded;
    this.#context = loaded;
    this.lastRefresh = now;
    for (const server of this.#servers) server.setSecureContext(loaded);
    return undefined;
  }

  /**
   * A `node:tls` server with these settings; `onSocket` gets each connection
   * whose handshake passed the client certificate checks.
   */
  createServer(onSocket: (socket: tls.TLSSocket) => void): tls.Server {
    const verify = this.settings.verifyMode;
    const server = tls.createServer({
      ...this.#context,
      minVersion: this.settings.minVersion === "tlsv1.3" ? "TLSv1.3" : "TLSv1.2",
      requestCert: verify > 0,
      // Mode 1 asks for a certificate but takes a client without one.
      rejectUnauthorized: verify >= 2,
    }, (socket) => {
      // A certificate that was offered must verify, whatever the mode (OpenSSL's SSL_VERIFY_PEER).
      if (verify === 1 && !socket.authorized && hasCertificate(socket)) {
        this.handshakeErrors++;
        socket.destroy();
        return;
      }
      if (this.settings.sessionCache && !socket.isSessionReused()) this.newSessions++;
      onSocket(socket);
    });
    // Every connection that does not finish its handshake counts: a plaintext client, a refused
    // certificate, a port probe (this runtime reports a refused certificate and a hang-up alike).
    server.on("tlsClientError", (_error, socket) => {
      this.handshakeErrors++;
      socket.destroy();
    });
    this.#servers.add(server);
    server.on("close", () => this.#servers.delete(server));
    return server;
  }

  /** The context options from the files, or memcached's error line. */
  #load(): tls.SecureContextOptions | string {
    const { chainCert, key, caCert } = this.settings;
    let cert: string;
    let leaf: X509Certificate;
    try {
      cert = Deno.readTextFileSync(need(chainCert));
      leaf = new X509Certificate(cert);
    } catch (error) {
      return `Error loading the certificate chain: ${chainCert ?? "(null)"} : ${reason(error)}`;
    }
    let keyText: string;
    let privateKey: KeyObject;
    try {
      keyText = Deno.readTextFileSync(need(key));
      privateKey = createPrivateKey(keyText);
    } catch (error) {
      return `Error loading the key: ${key ?? "(null)"} : ${reason(error)}`;
    }
    // OpenSSL checks the key against the certificate as it loads it, and memcached says so.
    if (!leaf.checkPrivateKey(privateKey)) {
      return `Error loading the key: ${key} : key values mismatch`;
    }
    if (caCert === undefined) return { cert, key: keyText };
    let ca: string;
    try {
      ca = Deno.readTextFileSync(caCert);
      new X509Certificate(ca);
    } catch (error) {
      return `Error loading the CA certificate: ${caCert} : ${reason(error)}`;
    }
    return { cert, key: keyText, ca };
  }
}

function need(path: string | undefined): string {
  if (path === undefined) throw new Error("no file given");
  return path;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // The certificate parser's words for a file with no PEM certificate in it.
  return message.startsWith("nom error") ? "no PEM certificate in the file" : message;
}

function hasCertificate(socket: tls.TLSSocket): boolean {
  const certificate = socket.getPeerCertificate();
  return certificate !== null && Object.keys(certificate).length > 0;
}
