// append and prepend add bytes to either end of a stored value.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.set("key", "v1");
await mc.append("key", "after");
console.log(await mc.get("key")); // v1after
await mc.prepend("key", "before");
console.log(await mc.get("key")); // beforev1after
