"""python-memcached's weighted cluster over three servers.

Usage: /usr/bin/python3 python_memcache_cluster.py PORT_A PORT_B PORT_C

Builds Client([(a, 1), (b, 2), (c, 1)]), sets 200 keys, reads them back
through the cluster, and prints one JSON object: for each key, the port of the
server python-memcached chose for it (`Client._get_server`). The Deno test then
asks each server directly which keys it holds.
"""

import json
import sys

import memcache

ports = [int(p) for p in sys.argv[1:4]]
servers = [("127.0.0.1:%d" % ports[0], 1), ("127.0.0.1:%d" % ports[1], 2),
           ("127.0.0.1:%d" % ports[2], 1)]
mc = memcache.Client(servers)
assert len(mc.buckets) == 4, "buckets: %d" % len(mc.buckets)

keys = ["cluster_key_%03d" % i for i in range(200)]
chosen = {}
for key in keys:
    assert mc.set(key, "value of " + key), "set %s failed" % key
    host, _ = mc._get_server(mc._encode_key(key))
    chosen[key] = host.port

got = mc.get_multi(keys)
assert got == {k: "value of " + k for k in keys}, "get_multi: %d of 200 keys" % len(got)

counts = [sum(1 for p in chosen.values() if p == port) for port in ports]
# 1:2:1 weights; loose bounds, the hash is fixed so this never flakes
assert all(c > 20 for c in counts), "counts: %r" % counts
assert counts[1] > counts[0] and counts[1] > counts[2], "counts: %r" % counts

mc.disconnect_all()
print(json.dumps({"chosen": chosen, "counts": counts}))
