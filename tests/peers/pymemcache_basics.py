"""pymemcache's Client and HashClient basics, against three servers.

Usage: /usr/bin/python3 pymemcache_basics.py PORT_A PORT_B PORT_C

Client runs on PORT_A; HashClient spreads keys over all three. Every step is
asserted here; the results are printed as one JSON object on the last line so
that the Deno test can check them again and report them. Exits non-zero (with
a traceback naming the failed step) when a step goes wrong.
"""

import json
import re
import sys

from pymemcache import serde
from pymemcache.client.base import Client
from pymemcache.client.hash import HashClient
from pymemcache.exceptions import MemcacheIllegalInputError

ports = [int(p) for p in sys.argv[1:4]]
out = {}


def plain(value):
    """The value as JSON can hold it: bytes as Latin-1 text, dicts and lists inside out."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def check(name, got, want):
    out[name] = plain(got)
    assert got == want, "%s: got %r, want %r" % (name, got, want)


# Replies are read for every command, so a wrong one fails the step.
c = Client(("127.0.0.1", ports[0]), default_noreply=False, connect_timeout=2, timeout=2)
check("flush_all", c.flush_all(), True)
check("set", c.set("k", "v"), True)
check("get", c.get("k"), b"v")
check("get missing", c.get("missing"), None)
check("add existing", c.add("k", "other"), False)
check("add new", c.add("added", "a"), True)
check("replace missing", c.replace("never_set", "x"), False)
check("replace existing", c.replace("added", "b"), True)
check("get replaced", c.get("added"), b"b")
check("append", c.append("k", "after"), True)
check("prepend", c.prepend("k", "before"), True)
check("get appended", c.get("k"), b"beforevafter")
check("append missing", c.append("no_such_key", "x"), False)
check("delete", c.delete("k"), True)
check("delete missing", c.delete("k"), False)

check("set counter", c.set("counter", "10"), True)
check("incr", c.incr("counter", 5), 15)
check("decr", c.decr("counter", 3), 12)
check("incr missing", c.incr("no_counter", 1), None)
check("incr wraps", (c.set("big", "18446744073709551615"), c.incr("big", 2))[1], 1)

check("set low", c.set("low", "12"), True)
check("decr below zero", c.decr("low", 100), 0)
# memcached rewrites a shorter number in place, padded with spaces
low = c.get("low")
out["get after decr below zero"] = low.decode()
assert low.strip() == b"0", "get low: %r" % low
check("delete low", c.delete("low"), True)
check("set flags", c.set("flagged", b"\x00\xff", flags=12345), True)
check("get flagged", c.get("flagged"), b"\x00\xff")

value, token = c.gets("counter")
out["gets"] = [value.decode(), token.decode()]
assert value == b"12" and re.fullmatch(rb"\d+", token), "gets: %r" % ((value, token),)
check("cas ok", c.cas("counter", "13", token), True)
check("cas stale", c.cas("counter", "14", token), False)
check("cas missing", c.cas("never_set", "1", token), None)
check("get after cas", c.get("counter"), b"13")

check("touch", c.touch("counter", 100), True)
check("touch missing", c.touch("never_set", 100), False)

check("set_many", c.set_many({"m1": "1", "m2": "2", "m3": "3"}), [])
check("get_many", c.get_many(["m1", "m2", "m3", "m4"]), {"m1": b"1", "m2": b"2", "m3": b"3"})
check("delete_many", c.delete_many(["m1", "m2"]), True)
check("get_many after delete", c.get_many(["m1", "m2", "m3"]), {"m3": b"3"})

# pymemcache refuses a key with a space itself; nothing reaches the server.
try:
    c.set("has space", "v")
    refused = False
except MemcacheIllegalInputError as e:
    refused = str(e)
out["key with space"] = refused
assert refused and "whitespace" in refused, "key with space: %r" % refused
check("get after refused key", c.get("m3"), b"3")

stats = c.stats()
out["stats"] = plain(stats)
for name in (b"pid", b"uptime", b"curr_items", b"total_items", b"cmd_get", b"cmd_set",
             b"get_hits", b"get_misses", b"curr_connections"):
    assert name in stats, "stats: no %r" % name
# added, big, counter, flagged, m3
assert stats[b"curr_items"] == 5, "curr_items: %r" % stats[b"curr_items"]
version = c.version()
out["version"] = version.decode()
assert re.fullmatch(rb"\d+\.\d+\.\d+\S*", version), "version: %r" % version

check("flush_all again", c.flush_all(), True)
check("get_many after flush", c.get_many(["m3", "counter", "added"]), {})

# The default is noreply: set returns True without reading a reply, and the
# next command's reply is still its own.
quiet = Client(("127.0.0.1", ports[0]))
check("default_noreply", quiet.default_noreply, True)
for i in range(50):
    assert quiet.set("nr", str(i)) is True
check("add noreply on existing key", quiet.add("nr", "never"), True)
check("get after noreply sets", quiet.get("nr"), b"49")
check("delete noreply", quiet.delete("nr"), True)
check("get after noreply delete", quiet.get("nr"), None)

# With a serde, values keep their python type (python-memcached's flags).
typed = Client(("127.0.0.1", ports[0]), serde=serde.pickle_serde, default_noreply=False)
check("typed set int", typed.set("t_int", 42), True)
check("typed set dict", typed.set("t_dict", {"a": [1, 2]}), True)
check("typed get int", typed.get("t_int"), 42)
check("typed get dict", typed.get("t_dict"), {"a": [1, 2]})

# HashClient over three servers.
hc = HashClient([("127.0.0.1", p) for p in ports], default_noreply=False)
keys = ["hash_key_%03d" % i for i in range(60)]
check("hash set_many", hc.set_many({k: "v_" + k for k in keys}), [])
check("hash get_many", hc.get_many(keys), {k: ("v_" + k).encode() for k in keys})
check("hash set", hc.set("hc", "1"), True)
check("hash incr", hc.incr("hc", 9), 10)
check("hash get", hc.get("hc"), b"10")
check("hash add existing", hc.add("hc", "x"), False)
# each key is on the server HashClient picks for it, and only there
singles = {p: Client(("127.0.0.1", p), default_noreply=False) for p in ports}
counts = {}
for k in keys:
    port = hc._get_client(k).server[1]
    counts[port] = counts.get(port, 0) + 1
    for p, single in singles.items():
        got = single.get(k)
        assert got == (("v_" + k).encode() if p == port else None), "%s on %d: %r" % (k, p, got)
out["hash counts"] = [counts.get(p, 0) for p in ports]
assert all(counts.get(p, 0) > 0 for p in ports), "hash counts: %r" % counts
check("hash delete_many", hc.delete_many(keys), True)
check("hash get_many after delete", hc.get_many(keys), {})

for client in [c, quiet, typed, hc, *singles.values()]:
    client.close()
print(json.dumps(out))
