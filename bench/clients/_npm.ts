// The npm peers of the client bench, pinned, and the flags Deno needs to run
// each: deno_clients.ts imports them, the harness probes and runs them. The
// specifiers are only ever imported from a variable, so that `deno check .`
// does not resolve them: they stay out of the package's dependencies.

/** An npm client the client bench measures ours against. */
export interface NpmPeer {
  specifier: string;
  /** Flags for `deno run` that the package needs. */
  flags: readonly string[];
}

/** The npm peers by the name `deno_clients.ts --client=` takes. */
export const NPM_PEERS: Readonly<Record<"memjs" | "memcached", NpmPeer>> = {
  memjs: { specifier: "npm:memjs@1.3.2", flags: [] },
  // npm memcached assigns Object.prototype.__proto__, which Deno refuses by default.
  memcached: { specifier: "npm:memcached@2.2.2", flags: ["--unsafe-proto"] },
};
