// add stores a value only when the key is not there yet.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.delete("key");
console.log(await mc.add("key", "first")); // true
console.log(await mc.add("key", "second")); // false: the key exists
console.log(await mc.get("key")); // first
