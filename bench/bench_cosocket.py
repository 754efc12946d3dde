"""Cosocket micro-benchmarks on loopback: read paths and pooled vs fresh connects.

    python3 bench/bench_cosocket.py            # about 5 s
    python3 bench/bench_cosocket.py --mb 64    # a bigger stream per read test

Prints one table: MB/s for receive(n) (frame-sized and large n),
receive("*l") and receiveuntil over a large loopback stream, and connects
per second through the keepalive pool vs fresh connections.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gevent  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

from cosocket import ngx, pool  # noqa: E402


def stream_server(payload: bytes) -> StreamServer:
    def handler(sock, addr):
        try:
            sock.sendall(payload)
        except OSError:
            pass
        sock.close()

    srv = StreamServer(("127.0.0.1", 0), handler)
    srv.start()
    return srv


def connect(port: int):
    sock = ngx.socket.tcp()
    sock.settimeout(5000)
    ok, err = sock.connect("127.0.0.1", port)
    assert ok == 1, err
    return sock


def bench_receive_n(total: int, n: int) -> float:
    srv = stream_server(b"x" * total)
    try:
        sock = connect(srv.server_port)
        receive = sock.receive
        started = time.perf_counter()
        for _ in range(total // n):
            data, err, _ = receive(n)
        elapsed = time.perf_counter() - started
        assert err is None
        sock.close()
        return total / elapsed / 1e6
    finally:
        srv.stop()


def bench_lines(total: int, line_len: int = 80) -> float:
    line = b"y" * (line_len - 2) + b"\r\n"
    count = total // line_len
    srv = stream_server(line * count)
    try:
        sock = connect(srv.server_port)
        receive = sock.receive
        started = time.perf_counter()
        for _ in range(count):
            data, err, _ = receive()
        elapsed = time.perf_counter() - started
        assert err is None and data == line[:-2]
        sock.close()
        return count * line_len / elapsed / 1e6
    finally:
        srv.stop()


def bench_until(total: int, part_len: int = 1000, size=None) -> float:
    part = b"z" * part_len + b"--boundary--"
    count = total // len(part)
    srv = stream_server(part * count)
    try:
        sock = connect(srv.server_port)
        reader = sock.receiveuntil("--boundary--")
        started = time.perf_counter()
        if size is None:
            for _ in range(count):
                data, err, _ = reader()
        else:
            for _ in range(count):
                while True:
                    data, err, _ = reader(size)
                    if data is None:
                        break
        elapsed = time.perf_counter() - started
        assert err is None
        sock.close()
        return count * len(part) / elapsed / 1e6
    finally:
        srv.stop()


def bench_connects(seconds: float, pooled: bool) -> float:
    def handler(sock, addr):
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass

    srv = StreamServer(("127.0.0.1", 0), handler)
    srv.start()
    try:
        done = 0
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            for _ in range(50):
                sock = connect(srv.server_port)
                if pooled:
                    ok, err = sock.setkeepalive(0, 10)
                    assert ok == 1, err
                else:
                    sock.close()
                done += 1
        elapsed = time.perf_counter() - started
        pool.reset_after_fork()
        return done / elapsed
    finally:
        srv.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=32, help="stream size per read test (MB)")
    parser.add_argument("--secs", type=float, default=0.5, help="duration of each connect test (s)")
    args = parser.parse_args()
    total = args.mb * 1024 * 1024
    rows = [
        ("receive(2)+receive(126) frame-like", None),
        ("receive(4096)", lambda: bench_receive_n(total, 4096)),
        ("receive(1 MiB)", lambda: bench_receive_n(total, 1 << 20)),
        ('receive("*l") 80-byte lines', lambda: bench_lines(total // 2)),
        ("receiveuntil() 1 KB parts", lambda: bench_until(total)),
        ("receiveuntil()(4096) chunks", lambda: bench_until(total, part_len=20000, size=4096)),
    ]
    print("%-38s %12s" % ("read path", "MB/s"))
    print("-" * 51)
    for name, fn in rows:
        if fn is None:
            value = bench_frames(total // 4)
        else:
            value = fn()
        print("%-38s %12.1f" % (name, value))
    print()
    print("%-38s %12s" % ("connect", "per second"))
    print("-" * 51)
    print("%-38s %12.0f" % ("fresh connect + close", bench_connects(args.secs, False)))
    print("%-38s %12.0f" % ("pooled connect + setkeepalive", bench_connects(args.secs, True)))


def bench_frames(total: int) -> float:
    """The WebSocket reader's pattern: a 2-byte header, then a 126-byte payload."""
    srv = stream_server(b"h" * total)
    try:
        sock = connect(srv.server_port)
        receive = sock.receive
        count = total // 128
        started = time.perf_counter()
        for _ in range(count):
            receive(2)
            data, err, _ = receive(126)
        elapsed = time.perf_counter() - started
        assert err is None
        sock.close()
        return count * 128 / elapsed / 1e6
    finally:
        srv.stop()


if __name__ == "__main__":
    gevent.spawn(main).join()
