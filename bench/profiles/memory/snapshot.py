"""GET /snapshot?name=N: dump this worker's tracemalloc snapshot and live-object counts to logs/N.*"""
import gc
import pickle
import sys
import tracemalloc
from collections import Counter

from cosocket import ngx

name = ngx.req.get_uri_args().get("name", "snap")
gc.collect()
counts = Counter()
sizes = Counter()
for o in gc.get_objects():
    t = type(o)
    key = "%s.%s" % (t.__dict__.get("__module__", "?"), t.__qualname__)
    counts[key] += 1
    sizes[key] += sys.getsizeof(o)
with open("logs/%s.objects" % name, "wb") as f:
    pickle.dump({"counts": counts, "sizes": sizes}, f)
if tracemalloc.is_tracing():
    tracemalloc.take_snapshot().dump("logs/%s.tracemalloc" % name)
ngx.say("ok")
