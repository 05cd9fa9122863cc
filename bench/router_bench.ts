// Key routing costs: the hashes behind the routers (our MD5 against
// node:crypto's) and a pick by each router, for a 16-byte key.
//
//   deno bench -A bench/router_bench.ts

import { createHash } from "node:crypto";
import { crc32, md5Words } from "../client/_hash.ts";
import { KetamaRouter } from "../client/ketama_router.ts";
import { PythonRouter } from "../client/python_router.ts";

const key = new TextEncoder().encode("user:1234567890a");
const long = new TextEncoder().encode("k".repeat(250));
const words = new Uint32Array(4);
// Results feed a module variable so no call can be optimised away.
let sink = 0;

Deno.bench("md5 16 B: client/_hash.ts md5Words", { group: "md5-16", baseline: true }, () => {
  md5Words(key, words);
  sink ^= words[0];
});

Deno.bench("md5 16 B: node:crypto createHash", { group: "md5-16" }, () => {
  sink ^= createHash("md5").update(key).digest().readUInt32LE(0);
});

Deno.bench("md5 250 B: client/_hash.ts md5Words", { group: "md5-250", baseline: true }, () => {
  md5Words(long, words);
  sink ^= words[0];
});

Deno.bench("md5 250 B: node:crypto createHash", { group: "md5-250" }, () => {
  sink ^= createHash("md5").update(long).digest().readUInt32LE(0);
});

Deno.bench("crc32 16 B", () => {
  sink ^= crc32(key);
});

const servers = [1, 2, 1].map((weight, i) => ({ host: "10.0.0.1", port: 11211 + i, weight }));
const python = new PythonRouter(servers);
const ketama = new KetamaRouter(servers);
const ketamaNext = new KetamaRouter(servers, { failover: "next" });
const alive = () => true;
// The key's own server dead, so every router takes its failover path.
const pythonHome = python.pick(key, alive);
const ketamaHome = ketama.pick(key, alive);
const pythonHomeDead = (i: number) => i !== pythonHome;
const ketamaHomeDead = (i: number) => i !== ketamaHome;

Deno.bench("PythonRouter.pick, all alive", { group: "pick" }, () => {
  sink ^= python.pick(key, alive);
});

Deno.bench("PythonRouter.pick, key's server dead (rehash)", { group: "pick" }, () => {
  sink ^= python.pick(key, pythonHomeDead);
});

Deno.bench("KetamaRouter.pick, all alive", { group: "pick" }, () => {
  sink ^= ketama.pick(key, alive);
});

Deno.bench(
  "KetamaRouter.pick, key's server dead (rebuilt continuum, cached)",
  { group: "pick" },
  () => {
    sink ^= ketama.pick(key, ketamaHomeDead);
  },
);

Deno.bench("KetamaRouter.pick, key's server dead (failover next)", { group: "pick" }, () => {
  sink ^= ketamaNext.pick(key, ketamaHomeDead);
});

Deno.bench("new KetamaRouter, 3 servers", () => {
  sink ^= new KetamaRouter(servers).pick(key, alive);
});
