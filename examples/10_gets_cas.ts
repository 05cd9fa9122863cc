// gets and cas: check-and-set. Two buyers read the same stock; only the
// first one's update lands, the second learns the stock changed under it.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using alice = new Client(servers, { cacheCas: true });
await using bob = new Client(servers, { cacheCas: true });

await alice.set("product_count", 900);
const seenByAlice = await alice.gets<number>("product_count");
const seenByBob = await bob.gets<number>("product_count");
console.log(seenByAlice?.value, seenByBob?.value); // 900 900

console.log(await alice.cas("product_count", seenByAlice!.value - 1)); // true
console.log(await bob.cas("product_count", seenByBob!.value - 1)); // false: someone bought first
console.log(await alice.get("product_count")); // 899
