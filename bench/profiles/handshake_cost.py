#!/usr/bin/env python3
"""The cost of one WebSocket handshake in this project's server, in one process (repeatable under callgrind).

    python3 bench/profiles/handshake_cost.py --count 2000             # handshakes/s (noisy on a shared machine)
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python3 bench/profiles/handshake_cost.py --count 2000          # instructions: run with --count 200 too,
                                                                      # (I(2000) - I(200)) / 1800 per handshake
    python3 bench/profiles/handshake_cost.py --count 2000 --cprofile  # where the Python time goes
    python3 bench/profiles/handshake_cost.py --stack                  # C stack saved by a parked handler greenlet

The server is the benchmark's echo server (bench/peers/cosocket/echo.py behind
bench/peers/cosocket/nginx.conf) served in this process's hub
(`worker.serve_in_process`); the client is a few greenlets on plain gevent
sockets doing what `wsload -C` does: connect, opening handshake, read the 101,
send a close frame, wait for the server's close and EOF, repeat (`--loops`
at once). The client's own cost is the same whatever the server code is, so
A/B differences are the server's.
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
sys.path.insert(0, ROOT)  # (and not this directory: its profile.py would shadow the stdlib's)

import gevent  # noqa: E402
from gevent import socket as gsocket  # noqa: E402

from cosocket.server import conf, master, worker  # noqa: E402

PEER = os.path.join(ROOT, "bench", "peers", "cosocket")
REQUEST = (b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: " + base64.b64encode(b"0123456789abcdef") + b"\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
CLOSE = bytes((0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8))  # masked close 1000, zero key


def start_server(script: str = "echo.py"):
    """Serve the echo conf on a free port in this hub -> (port, Worker)."""
    rundir = tempfile.mkdtemp(prefix="handshake-cost-")
    os.mkdir(os.path.join(rundir, "logs"))
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(os.path.join(PEER, "nginx.conf")) as f:
        text = f.read()
    for key, value in (("port", port), ("workers", 1), ("here", PEER), ("script", script)):
        text = text.replace("{%s}" % key, str(value))
    path = os.path.join(rundir, "nginx.conf")
    with open(path, "w") as f:
        f.write(text)
    main_conf = conf.load(path, rundir)
    master.configure_error_log(main_conf)
    listen_set = master.ListenSet().update(main_conf, 1)
    listeners = listen_set.listeners_for(main_conf, 0, master.build_ssl(main_conf))
    return port, worker.serve_in_process(main_conf, listeners)


def handshake(port: int) -> None:
    s = gsocket.socket()
    s.connect(("127.0.0.1", port))  # no create_connection: it resolves through gevent's thread pool
    s.sendall(REQUEST)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("server closed during the handshake: %r" % head)
        head += chunk
    if not head.startswith(b"HTTP/1.1 101 "):
        raise SystemExit("not a 101: %r" % head)
    s.sendall(CLOSE)
    while s.recv(4096):
        pass
    s.close()


def run(port: int, count: int, loops: int) -> float:
    left = [count]

    def loop():
        while left[0] > 0:
            left[0] -= 1
            handshake(port)

    t0 = time.perf_counter()
    gevent.joinall([gevent.spawn(loop) for _ in range(loops)], raise_error=True)
    return time.perf_counter() - t0


def parked_stack(port: int) -> None:
    """Open one WebSocket, let its handler park in recv_frame, print the handler greenlet's saved C stack."""
    s = gsocket.create_connection(("127.0.0.1", port))
    s.sendall(REQUEST)
    s.recv(4096)
    gevent.sleep(0.05)
    w = worker_ref[0]
    for conn in w.connections:
        g = conn.greenlet
        print("parked handler greenlet: _stack_saved = %d B" % g._stack_saved)
    s.sendall(CLOSE)
    while s.recv(4096):
        pass


worker_ref: list = []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--loops", type=int, default=8)
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--stack", action="store_true")
    opts = ap.parse_args()
    port, w = start_server()
    worker_ref.append(w)
    run(port, 50, opts.loops)  # warm up: imports, the compiled handler, caches
    if opts.stack:
        parked_stack(port)
        return
    if opts.cprofile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        secs = run(port, opts.count, opts.loops)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(35)
    else:
        secs = run(port, opts.count, opts.loops)
    print("%d handshakes in %.3f s: %.0f/s" % (opts.count, secs, opts.count / secs))


if __name__ == "__main__":
    main()
