// incr and decr: counters kept by the server.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.set("key", 777);
console.log(await mc.incr("key")); // 778
console.log(await mc.incr("key", 10)); // 788
console.log(await mc.decr("key")); // 787
console.log(await mc.decr("key", 10)); // 777
