// replace stores a value only when the key is already there.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.delete("key");
console.log(await mc.replace("key", "value")); // false: nothing to replace
await mc.set("key", "value");
console.log(await mc.replace("key", "new value")); // true
console.log(await mc.get("key")); // new value
