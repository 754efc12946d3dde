"""Cost of shared-dict get / set (one zone, one process): microseconds per call, best of N repeats.

    python bench/profiles/shdict_ops.py                      # cosocket/shdict.py
    python bench/profiles/shdict_ops.py --source OLD.py      # another version of the module, e.g.
        git show REV:cosocket/shdict.py > /tmp/shdict_rev.py

The machine is shared and noisy: run two versions interleaved, twice each, and compare the minima.
"""
import argparse
import importlib.util
import os
import sys
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)


def load(source):
    if not source:
        from cosocket import shdict
        return shdict
    import cosocket  # the relative imports of the loaded file resolve in this package
    spec = importlib.util.spec_from_file_location("cosocket._shdict_bench", source)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    assert cosocket
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", help="path of a shdict.py to measure instead of cosocket/shdict.py")
    ap.add_argument("--number", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    shdict = load(args.source)
    d = shdict.SharedDict.create("bench", 1 << 20)
    for i in range(1000):
        d.set("key%d" % i, "value %d" % i)
    cases = {
        "get": lambda: d.get("key500"),
        "get miss": lambda: d.get("nokey"),
        "set (in place)": lambda: d.set("key500", "value 501"),
        "set+delete": lambda: (d.set("fresh", "x" * 40), d.delete("fresh")),
        "incr": lambda: d.incr("n", 1, 0),
    }
    label = args.source or "cosocket/shdict.py"
    for name, fn in cases.items():
        best = min(timeit.repeat(fn, number=args.number, repeat=args.repeat))
        print("%-40s %-16s %6.2f us" % (label, name, best / args.number * 1e6))


if __name__ == "__main__":
    main()
