// Which of the bench's peers this machine has. The harness (bench/run.ts)
// probes, before it measures anything, each program and library that the
// selected phases run, so that a missing one costs its rows and one line
// saying what to install, not the run and everything it measured before.
import { NPM_PEERS } from "./clients/_npm.ts";

/** A phase of `deno task bench --only=...`. */
export type Phase = "server" | "client" | "memory";

/** The phases in the order the harness runs them. */
export const PHASES: readonly Phase[] = ["server", "client", "memory"];

/** A program or library the bench runs beside ours. */
export type PeerName =
  | "memcached"
  | "memcaslap"
  | "taskset"
  | "pymemcache"
  | "python-memcached"
  | "npm memjs"
  | "npm memcached";

interface Peer {
  /** The phases that run it. */
  phases: readonly Phase[];
  /** A command that succeeds only where the peer can be used. */
  probe: readonly string[];
  /** What a failing probe means, for the skip line. */
  cannot: string;
  /** What to run to have it. */
  install: string;
  /** What the run does without it. */
  without: string;
}

// The npm registry may be out of reach, and Deno then retries for a while.
const PROBE_SECONDS = 30;

function npmPeer(name: keyof typeof NPM_PEERS): Peer {
  const { specifier, flags } = NPM_PEERS[name];
  return {
    phases: ["client"],
    probe: [Deno.execPath(), "eval", "--no-lock", ...flags, `await import("${specifier}")`],
    cannot: `Deno cannot load ${specifier} from its cache or the npm registry`,
    install: `deno cache --no-lock ${specifier}`,
    without: "its client rows left out",
  };
}

const PEERS: Record<PeerName, Peer> = {
  memcached: {
    phases: ["server", "client", "memory"],
    probe: ["memcached", "-V"],
    cannot: "memcached -V fails",
    install: "apt-get install memcached",
    // Every phase measures against it, and the client phase's clients talk to it.
    without: "left out",
  },
  memcaslap: {
    phases: ["server"],
    probe: ["memcaslap", "--version"],
    cannot: "memcaslap --version fails",
    install: "apt-get install libmemcached-tools",
    without: "server scenarios (a), (c) and (d) left out",
  },
  taskset: {
    phases: ["server", "client", "memory"],
    // Pinning needs a CPU 1 as well as the program; Deno is the one program sure to be there.
    probe: ["taskset", "-c", "1", Deno.execPath(), "--version"],
    cannot: "taskset -c 1 fails (fewer than 2 CPUs?)",
    install: "apt-get install util-linux",
    without: "servers and clients run unpinned, sharing the cores",
  },
  pymemcache: {
    phases: ["client"],
    probe: ["/usr/bin/python3", "-c", "import pymemcache"],
    cannot: "/usr/bin/python3 cannot import pymemcache",
    install: "apt-get install python3-pymemcache",
    without: "its client rows left out",
  },
  "python-memcached": {
    phases: ["client"],
    probe: ["/usr/bin/python3", "-c", "import memcache"],
    cannot: "/usr/bin/python3 cannot import memcache",
    install: "apt-get install python3-memcache",
    without: "its client rows left out",
  },
  "npm memjs": npmPeer("memjs"),
  "npm memcached": npmPeer("memcached"),
};

/** Why `command` cannot run, or null when it succeeds within PROBE_SECONDS. */
async function failure(command: readonly string[], cannot: string): Promise<string | null> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return `${command[0]} not found${command[0].includes("/") ? "" : " on PATH"}`;
    }
    // Not executable, say: as missing as absent.
    return `${command[0]} cannot be run: ${error instanceof Error ? error.message : error}`;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, PROBE_SECONDS * 1000);
  const status = await child.status;
  clearTimeout(timer);
  if (timedOut) return `${cannot} within ${PROBE_SECONDS} s`;
  return status.success ? null : cannot;
}

/**
 * Probes, all at once, the peers that `phases` run.
 *
 * @param phases The phases the run will measure.
 * @returns Each missing peer with its skip line: what is missing, what to
 * install, and what the run leaves out.
 */
export async function missingPeers(phases: ReadonlySet<Phase>): Promise<Map<PeerName, string>> {
  const wanted = (Object.keys(PEERS) as PeerName[])
    .filter((name) => PEERS[name].phases.some((phase) => phases.has(phase)));
  const failures = await Promise.all(
    wanted.map((name) => failure(PEERS[name].probe, PEERS[name].cannot)),
  );
  const missing = new Map<PeerName, string>();
  wanted.forEach((name, i) => {
    const peer = PEERS[name];
    if (failures[i] === null) return;
    const selected = PHASES.filter((phase) => phases.has(phase));
    const without = name === "memcached"
      ? `${selected.join(", ")} phase${selected.length > 1 ? "s" : ""} ${peer.without}`
      : peer.without;
    missing.set(name, `skipped ${name}: ${failures[i]}; ${peer.install} (${without})`);
  });
  return missing;
}
