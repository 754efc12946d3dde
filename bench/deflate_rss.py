"""RSS of the server's worker per idle WebSocket connection, with and without permessage-deflate.

    python3 bench/deflate_rss.py [N]

Starts the shipped configuration (one worker, /echo with compression on) on a
free port, then for each mode opens N connections (default 500) with
websocket.client, sends one 1 KiB JSON-like text message on each and reads its
echo, and reads the worker's VmRSS from /proc before and after: the growth
divided by N.  Modes: no offer (an uncompressed connection), the client's
default offer (the server's defaults: 12-bit windows, memLevel 5) and an offer
asking for no context takeover both ways, each in a fresh server.  Bounded:
3 x N connections, about ten seconds; each server is stopped by its pid.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402

from websocket import client  # noqa: E402

MESSAGE = ('{"items": [%s]}' % ", ".join('{"id": %d, "name": "item %d"}' % (i, i) for i in range(40)))[:1024]
MODES = [
    ("no compression", None),
    ("permessage_deflate=True (server defaults: 12-bit windows, memLevel 5)", True),
    ("no context takeover both ways", {"server_no_context_takeover": True, "client_no_context_takeover": True}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    return int(entry)
        time.sleep(0.05)
    raise RuntimeError("no worker process")


def open_idle(url: str, n: int, option) -> list:
    """n connections that each exchanged one message, kept open."""
    def one():
        wb, _ = client.new(timeout=10000, permessage_deflate=option)
        ok, err, _ = wb.connect(url)
        assert ok == 1, err
        assert (option is None) == (wb.extensions is None)
        wb.send_text(MESSAGE)
        assert wb.recv_message() == (MESSAGE, "text", None)
        return wb

    conns = []
    for start in range(0, n, 50):
        jobs = [gevent.spawn(one) for _ in range(min(50, n - start))]
        gevent.joinall(jobs, timeout=30, raise_error=True)
        conns += [j.value for j in jobs]
    return conns


def start_server(prefix: Path):
    """The shipped configuration on a free port under `prefix`: (process, worker pid, url)."""
    (prefix / "logs").mkdir(parents=True)
    port = free_port()
    conf = (ROOT / "conf" / "nginx.conf").read_text()
    conf = conf.replace("127.0.0.1:8080", "127.0.0.1:%d" % port)
    conf = conf.replace("conf/handlers", str(ROOT / "conf" / "handlers"))
    (prefix / "nginx.conf").write_text(conf)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "cosocket", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-g", "daemon off;"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, worker_pid(proc.pid), "ws://127.0.0.1:%d/echo" % port


def stop_server(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    base = Path(tempfile.mkdtemp(prefix="deflate-rss-"))
    print("| connections (%d, idle after one 1 KiB message each way) | worker RSS per connection |" % n)
    print("| --- | --- |")
    for i, (label, option) in enumerate(MODES):
        proc, worker, url = start_server(base / str(i))  # a fresh worker per mode: RSS never shrinks
        try:
            conns = open_idle(url, 20, option)  # warm up: the handler's modules and buffers
            time.sleep(0.5)
            before = rss_kib(worker)
            conns += open_idle(url, n, option)
            time.sleep(0.5)
            after = rss_kib(worker)
            print("| %s | %.1f KiB |" % (label, (after - before) / n), flush=True)
            for wb in conns:
                wb.close()
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
