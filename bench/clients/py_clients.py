"""One Python client against one memcached: sequential sets and gets, and
get_multi of 100 keys. Each phase stops at --count operations or after
--seconds, whichever comes first. Prints one JSON line. Both clients are
synchronous, so "50 calls in flight" does not apply and is reported as null.

    /usr/bin/python3 bench/clients/py_clients.py --client=pymemcache|python-memcached --port=P
"""
import argparse
import json
import time

parser = argparse.ArgumentParser()
parser.add_argument("--client", default="pymemcache")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--count", type=int, default=100000)
parser.add_argument("--keys", type=int, default=100000)
parser.add_argument("--seconds", type=float, default=3.0)
args = parser.parse_args()

KEYS = ["key:%012d" % i for i in range(args.keys)]
VALUE = b"x" * 100

if args.client == "pymemcache":
    from pymemcache.client.base import Client

    client = Client(("127.0.0.1", args.port), no_delay=True, default_noreply=False)
    get, set_, get_multi = client.get, client.set, client.get_many
elif args.client == "python-memcached":
    import memcache

    client = memcache.Client(["127.0.0.1:%d" % args.port])
    get, set_, get_multi = client.get, client.set, client.get_multi
else:
    raise SystemExit("Cannot run client %r: unknown" % args.client)


def sequential(step):
    started = time.perf_counter()
    deadline = started + args.seconds
    done = 0
    while done < args.count and time.perf_counter() < deadline:
        step(done)
        done += 1
    return done / (time.perf_counter() - started)


# The same untimed warm-up as the Deno clients get (there it also compiles the hot paths).
for i in range(2000):
    set_(KEYS[i % args.keys], VALUE)
    get(KEYS[i % args.keys])

seq_set = sequential(lambda i: set_(KEYS[i % args.keys], VALUE))
seq_get = sequential(lambda i: get(KEYS[i % args.keys]))

found = 0
started = time.perf_counter()
deadline = started + args.seconds
i = 0
while i < args.count and time.perf_counter() < deadline:
    at = i % args.keys
    found += len(get_multi(KEYS[at:at + 100]))
    i += 100
get_multi100 = found / (time.perf_counter() - started)
print(json.dumps({"seqSet": seq_set, "seqGet": seq_get, "inflight50": None,
                  "getMulti100": get_multi100}))
