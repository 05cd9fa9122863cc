// getOrSet: one loader call however many callers ask at once. A hundred
// requests find the report missing; memcached's meta flags pick one of them
// to run the slow query, and the others wait for its value instead of
// stampeding the database. When the report ages into its stale window, one
// caller refreshes it while the rest are served the old one.
//
//   deno task start            # in one terminal
//   deno run -A examples/11_get_or_set.ts
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

let queries = 0;
async function slowQuery(): Promise<{ visits: number }> {
  queries++;
  await new Promise((resolve) => setTimeout(resolve, 100)); // the database, thinking
  return { visits: 1000 + queries };
}

await mc.delete("report");
const reports = await Promise.all(
  Array.from({ length: 100 }, () => mc.getOrSet("report", slowQuery, { ttl: 60, staleTtl: 30 })),
);
console.log(`${reports.length} callers, ${queries} query`); // 100 callers, 1 query
console.log(JSON.stringify(reports[99])); // {"visits":1001}

// Pretend a minute went by: 20 seconds left is inside the 30-second stale window.
await mc.set("report", { visits: 1001 }, { ttl: 20 });
const [first, ...others] = await Promise.all(
  Array.from({ length: 10 }, () => mc.getOrSet("report", slowQuery, { ttl: 60, staleTtl: 30 })),
);
const servedStale = others.filter((r) => r.visits === 1001).length;
console.log(`refreshed to ${first.visits}, ${servedStale} served stale`); // refreshed to 1002, 9 served stale
console.log(`${queries} queries in all`); // 2 queries in all

// Meta calls directly: invalidate marks the report stale; the next reader wins the recache.
await mc.metaDelete("report", { invalidate: true });
const item = await mc.metaGet<{ visits: number }>("report");
console.log(item?.stale, item?.win, item?.value?.visits); // true true 1002
