// delete and deleteMulti.
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers);

await mc.setMulti({ key1: "val1", key2: "val2", key3: "val3" });
console.log(await mc.delete("key1")); // true
console.log(await mc.delete("key1")); // false: already gone
console.log(await mc.deleteMulti(["key2", "key3"])); // true
console.log(await mc.getMulti(["key1", "key2", "key3"])); // [Object: null prototype] {}
