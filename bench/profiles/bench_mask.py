#!/usr/bin/env python3
"""Masking speed: websocket._speedups.apply_mask (C) vs websocket.frames.py_apply_mask (pure Python).

    python3 bench/profiles/bench_mask.py       # MB/s at 64 B, 1 KiB, 16 KiB, 1 MiB; median of 5 interleaved repeats
"""
import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from websocket import _speedups  # noqa: E402
from websocket.frames import py_apply_mask as py_mask  # noqa: E402

key = os.urandom(4)
print("%9s %12s %12s %8s" % ("size", "Python MB/s", "C MB/s", "C/Py"))
for size in (64, 1024, 16384, 1048576):
    data = os.urandom(size)
    number = max(3, 20_000_000 // (size * 40 + 4000))
    py, c = [], []
    for _ in range(5):
        for fn, out in ((py_mask, py), (_speedups.apply_mask, c)):
            t = timeit.timeit(lambda: fn(data, key), number=number)
            out.append(size * number / t / 1e6)
    p, q = statistics.median(py), statistics.median(c)
    print("%9d %12.0f %12.0f %8.1f" % (size, p, q, q / p))
