// The first get and set: store a value, read it back.
//
//   deno task start            # in one terminal
//   deno run -A examples/01_first_get_set.ts
import { Client } from "@x/memcache/client";

const servers = (Deno.env.get("MEMCACHE_SERVERS") ?? "127.0.0.1:11211").split(",");
await using mc = new Client(servers, { debug: true });

await mc.set("some_key", "Some value");
const value = await mc.get("some_key");
console.log(`some_key = ${value}`); // some_key = Some value

await mc.set("another_key", 3);
console.log(`another_key = ${await mc.get("another_key")}`); // another_key = 3
