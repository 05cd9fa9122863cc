// get and getMulti: misses are simply absent from the result.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.setMulti({ key1: "val1", key2: "val2" });
await mc.delete("key3");
console.log(await mc.get("key3")); // undefined
// The result has no prototype, so any key (even "__proto__") is just a key.
console.log(await mc.getMulti(["key1", "key2", "key3"]));
// [Object: null prototype] { key1: "val1", key2: "val2" }
