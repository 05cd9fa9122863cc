"""pylibmc (libmemcached) against one server: every call a user makes, results printed as JSON."""
import json
import sys

import pylibmc

port = int(sys.argv[1])
mc = pylibmc.Client([f"127.0.0.1:{port}"], binary=False,
                    behaviors={"tcp_nodelay": True, "ketama": True, "cas": True})
out = {}
mc.flush_all()
out["set"] = mc.set("a", "hello")
out["get"] = mc.get("a")
out["set_multi"] = mc.set_multi({"x": 1, "y": [1, 2, 3], "z": b"\x00\xff"})
out["get_multi"] = repr(sorted(mc.get_multi(["x", "y", "z", "missing"]).items()))
out["incr_decr"] = [mc.incr("x", 5), mc.decr("x", 2), mc.decr("x", 100)]
out["add_replace"] = [mc.add("a", "no"), mc.replace("a", "yes"), mc.get("a")]
mc.append("a", "!")
mc.prepend("a", "<")
out["append_prepend"] = mc.get("a")
value, cas = mc.gets("a")
out["cas"] = [value, mc.cas("a", "first", cas), mc.cas("a", "second", cas), mc.get("a")]
out["touch"] = mc.touch("a", 100)
out["delete"] = [mc.delete("a"), mc.delete("a"), mc.get("a")]
out["delete_multi"] = mc.delete_multi(["x", "y"])
out["big"] = len(mc.get("big") or b"") if mc.set("big", b"v" * 500000) else -1
stats = mc.get_stats()[0][1]
out["curr_items"] = (stats.get("curr_items") or stats.get(b"curr_items")).decode() \
    if isinstance(stats.get("curr_items") or stats.get(b"curr_items"), bytes) \
    else stats.get("curr_items")
out["flush"] = [mc.flush_all(), mc.get("z")]
print(json.dumps(out))
