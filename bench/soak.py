#!/usr/bin/env python3
"""Soak test: thousands of WebSocket connections exchanging checked messages for minutes (not CI).

    python3 bench/soak.py                      # 2000 connections, 5 minutes, 2 workers, 4000 msg/s
    python3 bench/soak.py --conns 1000 --seconds 60

Starts the real server (the shipped /echo handler) under its own prefix, builds and runs
bench/soakload.c (epoll, one core at most), and reports:

* messages echoed, lost (sent and never echoed) and corrupted (any byte, opcode or order wrong:
  every message carries its connection number, sequence number and checksum), dropped connections;
* the workers' RSS sampled at every progress line, and its growth per million messages once every
  connection is up (the warm-up is excluded);
* the workers' file descriptors before the load and after the connections closed (a leak shows here).

Exit status 0 only when nothing was lost, corrupted or dropped and no descriptor leaked.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.serverproc import ServerProcess  # noqa: E402

CONF = """
worker_processes {workers};
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections {worker_connections}; }
http {
    access_log off;
    server {
        listen 127.0.0.1:{port} backlog=4096;
        location = /echo { content_by_python_file {root}/conf/handlers/echo.py; }
    }
}
"""


def build_loader() -> Path:
    out = ROOT / "bench" / "build" / "soakload"
    src = ROOT / "bench" / "soakload.c"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", str(out), str(src)], check=True)
    return out


def children(pid: int) -> list:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
    return sorted(out)


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conns", type=int, default=2000, help="connections (default 2000, at most 10000)")
    ap.add_argument("--seconds", type=float, default=300, help="duration of the load (default 300)")
    ap.add_argument("--rate", type=float, default=4000, help="messages/s in total, 0 = flat out (default 4000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--interval", type=int, default=5, help="seconds between samples")
    args = ap.parse_args(argv)
    conns = max(1, min(args.conns, 10000))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, conns * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < conns + 64:
        print("soak: RLIMIT_NOFILE %d is too small for %d connections" % (want, conns), file=sys.stderr)
        return 2

    loader = build_loader()
    prefix = Path(tempfile.mkdtemp(prefix="soak-"))
    conf = CONF.replace("{workers}", str(args.workers)).replace(
        "{worker_connections}", str(conns // args.workers + 1024))
    srv = ServerProcess(prefix, conf).start()
    try:
        deadline = time.monotonic() + 5
        while len(children(srv.proc.pid)) < args.workers and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = children(srv.proc.pid)
        time.sleep(0.3)
        fds_before = {pid: fds(pid) for pid in workers}
        rss_before = {pid: rss_kib(pid) for pid in workers}
        print("soak: %d connections, %.0f s, rate %s, %d workers %s" % (
            conns, args.seconds, args.rate or "flat out", args.workers, workers))
        print("soak: before: RSS %s KiB, fds %s" % (rss_before, fds_before))
        proc = subprocess.Popen([str(loader), "-p", str(srv.port), "-u", "/echo", "-c", str(conns),
                                 "-d", str(args.seconds), "-r", str(args.rate), "-B", "100",
                                 "-i", str(args.interval)],
                                stdout=subprocess.PIPE, text=True)
        samples = []  # (t, msgs, alive, total RSS KiB)
        result = None
        for line in proc.stdout:
            line = line.strip()
            m = re.match(r"PROGRESS t=(\d+) alive=(\d+) msgs=(\d+)", line)
            if m:
                rss = sum(rss_kib(pid) for pid in workers if os.path.exists("/proc/%d" % pid))
                samples.append((int(m.group(1)), int(m.group(3)), int(m.group(2)), rss))
                print("soak: %s rss=%d KiB" % (line, rss), flush=True)
            elif line.startswith("RESULT"):
                result = line
        proc.wait()
        time.sleep(1.0)  # the server sees the close frames and closes its side
        alive_workers = children(srv.proc.pid)
        fds_after = {pid: fds(pid) for pid in workers if pid in alive_workers}
        rss_after = {pid: rss_kib(pid) for pid in workers if pid in alive_workers}
    finally:
        srv.stop()
    log = srv.error_log()
    print("soak: " + (result or "no RESULT line"))
    print("soak: after: RSS %s KiB, fds %s" % (rss_after, fds_after))

    steady = [s for s in samples if s[2] == conns]
    growth = None
    if len(steady) >= 2 and steady[-1][1] > steady[0][1]:
        growth = (steady[-1][3] - steady[0][3]) / ((steady[-1][1] - steady[0][1]) / 1e6)
        print("soak: RSS (all workers) %d -> %d KiB over %d messages: %+.0f KiB per million messages" % (
            steady[0][3], steady[-1][3], steady[-1][1] - steady[0][1], growth))
    else:
        print("soak: not enough steady samples for an RSS growth figure")
    leaked = {pid: fds_after.get(pid, -1) - n for pid, n in fds_before.items()}
    print("soak: fd change per worker after the run: %s" % leaked)
    died = sorted(set(workers) - set(alive_workers))
    if died:
        print("soak: workers died during the run: %s" % died)
    loud = [l for l in log.splitlines() if re.search(r"\[(alert|crit|emerg|error)\]", l)]
    if loud:
        print("soak: %d error-level log lines, first: %s" % (len(loud), loud[0]))
    fields = dict(kv.split("=") for kv in (result or "").split()[1:])
    ok = (result is not None and proc.returncode == 0 and not died and all(v == 0 for v in leaked.values())
          and fields.get("alive") == str(conns))
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
