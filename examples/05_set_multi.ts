// set and setMulti: one key, or many in one round trip per server.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.set("key", "value", { ttl: 60 }); // expires in a minute
const failed = await mc.setMulti({ key1: "val1", key2: "val2" }, { keyPrefix: "multi_" });
console.log(`keys not stored: ${JSON.stringify(failed)}`); // keys not stored: []
console.log(await mc.get("multi_key1"), await mc.get("multi_key2")); // val1 val2
