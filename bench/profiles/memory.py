#!/usr/bin/env python3
"""Where the memory of an idle WebSocket connection goes, in this project's worker.

    python3 bench/profiles/memory.py --conns 2000            # RSS, tracemalloc and object counts
    python3 bench/profiles/memory.py --conns 2000 --no-trace # RSS only (tracemalloc costs memory itself)

Starts the echo server (one worker, bench/profiles/memory/nginx.conf), takes a
snapshot (GET /snapshot), opens --conns idle WebSocket connections with
bench/build/wsload -I, takes a second snapshot, and prints per connection:
the RSS growth, the growth by allocation site (tracemalloc, grouped by file
and line) and by live object type (gc).
"""
from __future__ import annotations

import argparse
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import loadgen  # noqa: E402
import servers  # noqa: E402


def snapshot(port: int, name: str) -> None:
    with urllib.request.urlopen("http://127.0.0.1:%d/snapshot?name=%s" % (port, name), timeout=60) as r:
        r.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--no-trace", action="store_true", help="no tracemalloc (RSS and object counts only)")
    ap.add_argument("--frames", type=int, default=1, help="tracemalloc frames per allocation")
    ap.add_argument("--top", type=int, default=30)
    opts = ap.parse_args()
    loadgen.build()
    port = servers.free_port()
    rundir = servers.RUN_DIR / "profile-memory"
    if rundir.exists():
        shutil.rmtree(rundir)
    (rundir / "logs").mkdir(parents=True)
    servers.render(HERE / "memory" / "nginx.conf", rundir / "nginx.conf", {"port": port, "here": HERE / "memory"})
    env = servers.project_env()
    if not opts.no_trace:
        env["PYTHONTRACEMALLOC"] = str(opts.frames)
    argv = [sys.executable, "-m", "cosocket", "-p", str(rundir), "-c", str(rundir / "nginx.conf"), "-g", "daemon off;"]
    out = open(rundir / "logs" / "stdout.log", "wb")
    proc = subprocess.Popen(argv, cwd=str(rundir), env=env, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    running = servers.Running(servers.PEERS[0], proc, port, rundir, 1)
    try:
        if not servers.wait_port(port, 20, proc):
            raise SystemExit("server did not start:\n" + running.log_tail())
        time.sleep(0.3)
        worker = [p for p in running.pids() if p != proc.pid][0]
        snapshot(port, "before")  # warms the handler paths and imports too
        snapshot(port, "before")
        rss0 = servers.rss_bytes([worker])
        held = {}

        def on_ready(ready):
            time.sleep(0.5)
            held["rss"] = servers.rss_bytes([worker])
            snapshot(port, "after")

        res = loadgen.hold_idle(port, opts.conns, "", on_ready, ramp=200)
        if "rss" not in held:
            raise SystemExit("idle hold failed: %r" % res)
    finally:
        running.stop()
    n = opts.conns
    print("conns: %d (%s)" % (n, "tracemalloc on, %d frame(s)" % opts.frames if not opts.no_trace else "no tracemalloc"))
    print("worker RSS growth per idle connection: %.0f B" % ((held["rss"] - rss0) / n))
    logs = rundir / "logs"
    before = pickle.load(open(logs / "before.objects", "rb"))
    after = pickle.load(open(logs / "after.objects", "rb"))
    print("\nlive GC-tracked objects per connection (count, getsizeof bytes):")
    rows = []
    for t in after["counts"]:
        dc = after["counts"][t] - before["counts"].get(t, 0)
        ds = after["sizes"][t] - before["sizes"].get(t, 0)
        if dc >= n // 2:
            rows.append((ds, dc, t))
    for ds, dc, t in sorted(rows, reverse=True):
        print("  %5.2f  %7.0f B  %s" % (dc / n, ds / n, t))
    print("  total getsizeof of those: %.0f B" % (sum(r[0] for r in rows) / n))
    if not opts.no_trace:
        s0 = tracemalloc.Snapshot.load(str(logs / "before.tracemalloc"))
        s1 = tracemalloc.Snapshot.load(str(logs / "after.tracemalloc"))
        diff = s1.compare_to(s0, "lineno")
        total = sum(d.size_diff for d in diff)
        print("\ntracemalloc growth per connection: %.0f B; by allocation site:" % (total / n))
        for d in diff[:opts.top]:
            if d.size_diff < n * 8:
                break
            frame = d.traceback[0]
            fname = frame.filename
            for cut in ("site-packages/", "/work/main/"):
                if cut in fname:
                    fname = fname.split(cut, 1)[1]
            print("  %6.0f B  %5.2f blocks  %s:%d" % (d.size_diff / n, d.count_diff / n, fname, frame.lineno))


if __name__ == "__main__":
    main()
