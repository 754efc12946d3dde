#!/usr/bin/env python3
"""A/B of the real server: two checkouts, interleaved short wsload runs (handshakes/s by default).

    git archive <rev> | tar -x -C /tmp/base          # (copy the built websocket/*.so too)
    python3 bench/profiles/connect_ab.py /tmp/base .  --rounds 3 --secs 3
    python3 bench/profiles/connect_ab.py /tmp/base .  --load "-c 50 -s 16384"   # echo msg/s instead

Each round starts each checkout's echo server (one worker, `taskset -c 0`,
PYTHONPATH = that checkout), runs `wsload -C -c 8` on core 1 for --secs after
a 1 s warm-up, stops it; prints every run and the medians. Short runs on a
shared machine: expect +-5%; use callgrind (handshake_instr.sh) for small deltas.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WSLOAD = HERE.parent / "build" / "wsload"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(root: Path, secs: float, load: list) -> float:
    rundir = Path(tempfile.mkdtemp(prefix="connect-ab-"))
    (rundir / "logs").mkdir()
    port = free_port()
    peer = root / "bench" / "peers" / "cosocket"
    text = (peer / "nginx.conf").read_text()
    for key, value in (("port", port), ("workers", 1), ("here", peer), ("script", "echo.py")):
        text = text.replace("{%s}" % key, str(value))
    (rundir / "nginx.conf").write_text(text)
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "cosocket", "-p", str(rundir), "-c",
                             str(rundir / "nginx.conf"), "-g", "daemon off;"], cwd=str(rundir), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import socket
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run(["taskset", "-c", "1", str(WSLOAD), "-p", str(port), "-u", "/echo", *load,
                              "-w", "1", "-d", str(secs)], capture_output=True, text=True, timeout=secs + 30).stdout
        m = re.search(r"msgs_per_s=([0-9.]+)", out)
        return float(m.group(1)) if m else 0.0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        shutil.rmtree(rundir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--load", default="-c 8 -C", help="wsload's workload arguments (default: -c 8 -C)")
    opts = ap.parse_args()
    roots = [Path(opts.a).resolve(), Path(opts.b).resolve()]
    runs = {0: [], 1: []}
    for r in range(opts.rounds):
        for i in ((0, 1) if r % 2 == 0 else (1, 0)):
            rate = one_run(roots[i], opts.secs, opts.load.split())
            runs[i].append(rate)
            print("round %d %s: %.0f per s" % (r + 1, "AB"[i], rate), flush=True)
    a, b = statistics.median(runs[0]), statistics.median(runs[1])
    print("median A %.0f  B %.0f  B/A %.2f" % (a, b, b / a if a else 0))


if __name__ == "__main__":
    main()
