// A weighted cluster: each key lives on one server, chosen exactly as
// python-memcached chooses it, so Python and Deno programs share the cache.
//
//   MEMCACHE_SERVERS=127.0.0.1:11211:1,127.0.0.1:11212:2 deno run -A examples/02_weighted_cluster.ts
import { Client } from "@x/memcache/client";

// "host:port:weight" entries, comma-separated; one local server by default.
const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211:1").split(",").map(
  (entry): [string, number] => {
    const [host, port, weight = "1"] = entry.split(":");
    return [`${host}:${port}`, Number(weight)];
  },
);
await using mc = new Client(servers);

for (let i = 0; i < 10; i++) await mc.set(`user:${i}`, `name ${i}`);
const found = await mc.getMulti(Array.from({ length: 10 }, (_, i) => `user:${i}`));
console.log(`${Object.keys(found).length} of 10 users found across ${servers.length} server(s)`);
