#!/usr/bin/env python3
"""Python bytecodes per handshake, by function, in this project's server (in one process, repeatable).

    python3 bench/profiles/handshake_opcount.py [--count 300] [--top 60] [TREE]

TREE (default: this checkout) is the checkout whose server is measured: its
bench/profiles/handshake_cost.py serves the benchmark's echo conf in this
process and drives `wsload -C`'s cycle (connect, opening handshake, close
frame, wait for the server's close).  Every function of TREE's files is traced
with `frame.f_trace_opcodes`; the table is (bytecodes, calls) per handshake
for each (file, line, function), then the total.  Two checkouts compare
function by function; callgrind (handshake_instr.sh, worker_cost.sh) gives the
instructions, this says where the Python work is.  The client's own lines
(handshake_cost.py) are counted too and are the same for every checkout.
"""
from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import sys
import threading


def main() -> None:
    here = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree", nargs="?", default=here)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--top", type=int, default=60)
    opts = ap.parse_args()
    root = os.path.abspath(opts.tree)
    spec = importlib.util.spec_from_file_location(
        "handshake_cost", os.path.join(root, "bench", "profiles", "handshake_cost.py"))
    hc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hc)  # puts `root` first on sys.path
    port, _worker = hc.start_server()
    hc.run(port, 100, 1)  # warm up: imports, the compiled handler, caches

    opcodes: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    prefix = root + os.sep
    venv = os.path.join(root, ".venv") + os.sep

    def tracer(frame, event, arg):
        code = frame.f_code
        name = code.co_filename
        if not name.startswith(prefix) or name.startswith(venv):
            return None
        key = (name[len(prefix):], code.co_firstlineno, code.co_name)
        calls[key] += 1
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False

        def local(frame, event, arg):
            if event == "opcode":
                opcodes[key] += 1
            return local
        return local

    threading.settrace(tracer)
    sys.settrace(tracer)
    hc.run(port, opts.count, 1)
    sys.settrace(None)
    threading.settrace(None)

    n = opts.count
    for key, value in opcodes.most_common(opts.top):
        print("%8.1f %6.2f  %s:%d %s" % (value / n, calls[key] / n, *key))
    print("bytecodes per handshake: %.1f in %.1f calls" % (sum(opcodes.values()) / n, sum(calls.values()) / n))


if __name__ == "__main__":
    main()
