"""The python-memcached walkthrough a user knows, against one server.

Usage: /usr/bin/python3 python_memcache_walkthrough.py PORT

Every step is asserted here; the results are printed as one JSON object on the
last line so that the Deno test can check them again and report them. Exits
non-zero (with a traceback naming the failed step) when a step goes wrong.
"""

import json
import sys

import memcache

port = int(sys.argv[1])
server = "127.0.0.1:%d" % port
mc = memcache.Client([server], debug=0)
out = {}


def check(name, got, want):
    out[name] = got
    assert got == want, "%s: got %r, want %r" % (name, got, want)


check("flush_all", mc.flush_all(), None)

# set / get
check("set", mc.set("some_key", "Some value"), True)
check("get", mc.get("some_key"), "Some value")
check("get missing", mc.get("missing_key"), None)

# add twice: only the first stores
check("add first", mc.add("added", "one"), True)
check("add second", mc.add("added", "two"), False)
check("get added", mc.get("added"), "one")

# replace needs the key to exist
check("replace missing", mc.replace("never_set", "x"), False)
check("replace existing", mc.replace("added", "three"), True)
check("get replaced", mc.get("added"), "three")

# set_multi / get_multi (set_multi returns the keys that failed)
check("set_multi", mc.set_multi({"k1": "v1", "k2": "v2", "k3": 3}), [])
check("get_multi", mc.get_multi(["k1", "k2", "k3", "k4"]), {"k1": "v1", "k2": "v2", "k3": 3})
check("set_multi prefixed", mc.set_multi({"a": 1, "b": 2}, key_prefix="pfx_"), [])
check("get_multi prefixed", mc.get_multi(["a", "b", "c"], key_prefix="pfx_"), {"a": 1, "b": 2})
check("get pfx_a", mc.get("pfx_a"), 1)

# delete / delete_multi
check("delete", mc.delete("k1"), 1)
check("get deleted", mc.get("k1"), None)
# python-memcached answers 1 for a delete of a missing key too (NOT_FOUND is fine)
check("delete missing", mc.delete("k1"), 1)
check("delete_multi", mc.delete_multi(["k2", "k3"]), 1)
check("get_multi deleted", mc.get_multi(["k1", "k2", "k3"]), {})

# append / prepend
check("set v1", mc.set("ap", "v1"), True)
check("append", mc.append("ap", "after"), True)
check("get appended", mc.get("ap"), "v1after")
check("prepend", mc.prepend("ap", "before"), True)
check("get prepended", mc.get("ap"), "beforev1after")
check("append missing", mc.append("no_such_key", "x"), False)

# incr / decr: 777 -> 778 -> 788 -> 787 -> 777
check("set counter", mc.set("counter", 777), True)
check("incr", mc.incr("counter"), 778)
check("incr 10", mc.incr("counter", 10), 788)
check("decr", mc.decr("counter"), 787)
check("decr 10", mc.decr("counter", 10), 777)
check("get counter", mc.get("counter"), 777)
check("incr missing", mc.incr("no_counter"), None)

# gets / cas: two buyers read 900, only the first sale lands
shop = memcache.Client([server], cache_cas=True)
check("set product_count", shop.set("product_count", 900), True)
buyer1 = memcache.Client([server], cache_cas=True)
buyer2 = memcache.Client([server], cache_cas=True)
check("buyer1 gets", buyer1.gets("product_count"), 900)
check("buyer2 gets", buyer2.gets("product_count"), 900)
check("buyer1 cas", buyer1.cas("product_count", 899), True)
check("buyer2 cas", buyer2.cas("product_count", 899), False)
check("get product_count", mc.get("product_count"), 899)
# buyer2 reads again and its sale now lands
check("buyer2 gets again", buyer2.gets("product_count"), 899)
check("buyer2 cas again", buyer2.cas("product_count", 898), True)
check("get product_count again", mc.get("product_count"), 898)

# value types: str, int, bytes keep their type through the flags
check("set str", mc.set("t_str", "héllo wörld"), True)
check("set int", mc.set("t_int", 42), True)
check("set bytes", mc.set("t_bytes", b"\x00\x01\xff\r\n"), True)
check("get str", mc.get("t_str"), "héllo wörld")
check("get int", mc.get("t_int"), 42)
got = mc.get("t_bytes")
out["get bytes"] = list(got)
assert got == b"\x00\x01\xff\r\n", "get bytes: %r" % got

# a large value, compressed because it is over min_compress_len
big = "".join("line %06d of a long text\n" % i for i in range(20000))
check("set big", mc.set("big", big, min_compress_len=1024), True)
got = mc.get("big")
assert got == big, "get big: wrong value of %d chars" % len(got or "")
out["big length"] = len(big)

mc.disconnect_all()
shop.disconnect_all()
buyer1.disconnect_all()
buyer2.disconnect_all()
print(json.dumps(out))
