#!/usr/bin/env python3
"""A/B micro-benchmark of cosocket/tcp.py's frame-reading hot path: the committed version vs the working copy.

    python3 bench/profiles/bench_tcp_ab.py                  # 64 B, 16 KiB, 1 MiB; 5 interleaved rounds
    python3 bench/profiles/bench_tcp_ab.py --base HEAD~3 --sizes 64 --rounds 9
    valgrind --tool=callgrind python3 bench/profiles/bench_tcp_ab.py --only B --sizes 64 --count 2000

One process, loopback TCP: a plain gevent client sends pre-masked WebSocket
frames and reads the echo; the server side is a TCPSocket (from_accepted)
doing what websocket.protocol does per frame: receive(2), receive(4) (or the
extended length + key), receive(n), then one send(). Rounds alternate A and B;
prints the median messages/s of each and B/A. With --only, runs one side for
a fixed number of messages (instruction counts under callgrind: subtract a
run with a smaller --count to cancel the start-up).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, ROOT)

import gevent  # noqa: E402
from gevent import socket as gsocket  # noqa: E402

import cosocket.tcp as tcp_new  # noqa: E402


def load_base(rev: str):
    """cosocket/tcp.py at git revision `rev`, imported as cosocket._tcp_base."""
    src = subprocess.run(["git", "-C", ROOT, "show", "%s:cosocket/tcp.py" % rev], capture_output=True,
                         check=True).stdout
    path = os.path.join(tempfile.mkdtemp(), "_tcp_base.py")
    with open(path, "wb") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location("cosocket._tcp_base", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["cosocket._tcp_base"] = mod
    spec.loader.exec_module(mod)
    return mod


def frame(size: int) -> bytes:
    if size <= 125:
        head = bytes((0x82, 0x80 | size))
    elif size <= 0xFFFF:
        head = bytes((0x82, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x82, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + b"x" * size  # a zero key: the payload is its own unmasking


def run(mod, size: int, secs: float, limit: int = 0) -> float:
    """Echo frames of `size` through mod.TCPSocket for `secs` (or exactly `count` messages); messages per second."""
    lsock = gsocket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    client = gsocket.create_connection(lsock.getsockname())
    conn, addr = lsock.accept()
    for s in (client, conn):
        s.setsockopt(gsocket.IPPROTO_TCP, gsocket.TCP_NODELAY, 1)
    sock = mod.TCPSocket.from_accepted(conn, addr)
    sock.settimeout(5000)
    wire = frame(size)
    reply_len = len(wire) - 4
    count = [0]

    def server():
        receive, send = sock.receive, sock.send
        while True:
            head, err, _ = receive(2)
            if head is None:
                return
            n = head[1] & 0x7F
            if n == 126:
                ext, err, _ = receive(6)
                n = int.from_bytes(ext[:2], "big")
            elif n == 127:
                ext, err, _ = receive(12)
                n = int.from_bytes(ext[:8], "big")
            else:
                receive(4)
            payload, err, _ = receive(n)
            send(bytes((0x82, head[1] & 0x7F)) + (ext[:-4] if n > 125 else b"") + payload)

    def client_loop(deadline, limit=0):
        buf = bytearray(reply_len)
        view = memoryview(buf)
        while (count[0] < limit) if limit else (time.perf_counter() < deadline):
            client.sendall(wire)
            got = 0
            while got < reply_len:
                got += client.recv_into(view[got:])
            count[0] += 1

    srv = gevent.spawn(server)
    client_loop(time.perf_counter() + 0.2)  # warm-up
    count[0] = 0
    started = time.perf_counter()
    client_loop(started + secs, limit)
    rate = count[0] / (time.perf_counter() - started)
    client.close()
    srv.join(2)
    conn.close()
    lsock.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="HEAD", help="git revision of tcp.py for A (default HEAD)")
    ap.add_argument("--sizes", default="64,16384,1048576")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=0.5)
    ap.add_argument("--only", choices=("A", "B"), help="run one side for --count messages per size (for callgrind)")
    ap.add_argument("--count", type=int, default=2000)
    opts = ap.parse_args()
    base = load_base(opts.base)
    if opts.only:
        for size in (int(s) for s in opts.sizes.split(",")):
            run(base if opts.only == "A" else tcp_new, size, 0, opts.count)
        return
    print("%9s %12s %12s %7s" % ("size", "A msg/s", "B msg/s", "B/A"))
    for size in (int(s) for s in opts.sizes.split(",")):
        a, b = [], []
        for r in range(opts.rounds):
            for mod, out in ((base, a), (tcp_new, b)) if r % 2 == 0 else ((tcp_new, b), (base, a)):
                out.append(run(mod, size, opts.secs))
        ma, mb = statistics.median(a), statistics.median(b)
        print("%9d %12.0f %12.0f %7.3f" % (size, ma, mb, mb / ma))


if __name__ == "__main__":
    main()
