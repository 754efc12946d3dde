#!/usr/bin/env python3
"""Fan-out benchmark: one publisher, many subscribers, delivered messages per second and latency.

    python3 bench/fanout.py                                   # the full run (1,000 subscribers, 64 B and 1 KiB)
    python3 bench/fanout.py --subs 20 --secs 1 --sizes 64     # a quick check that everything runs

Targets (--targets, all by default):

* ours: this server, 2 workers, `channels embedded` (attached subscribers);
* ours-redis: two of these servers sharing one redis-server (`channels redis://`),
  the subscribers split between them, the publisher on the first (cross-server);
* websockets: websockets' broadcast() in one asyncio process;
* redis-loop: this server, 2 workers, the classic per-subscriber loop (one
  cosocket.redis SUBSCRIBE connection and one light thread per subscriber).

For each target and size: the publisher first sends as fast as it can for
--secs (delivered messages per second = frames received by all subscribers /
seconds; "max rate" = that / subscribers), then at 50% of the max rate for
--secs, where each message carries its send time (CLOCK_MONOTONIC) and the
subscribers of each receiving process's first connection give the
publish-to-delivery latency (p50/p99). Then, for `ours`, the memory per idle
subscribed connection next to an idle /echo connection (RSS of the server's
processes). Receivers are --procs processes of plain sockets; only
127.0.0.1 is used.
"""
from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import servers  # noqa: E402

TARGETS = ("ours", "ours-redis", "websockets", "redis-loop")


# --------------------------------------------------------------------------- WebSocket client bits

def ws_connect(port: int, path: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake to %s" % path)
        buf += chunk
    if not buf.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(buf[:200].decode("latin-1"))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def masked_text(payload: bytes) -> bytes:
    n = len(payload)
    head = bytes((0x81, 0x80 | n)) if n < 126 else struct.pack(">BBH", 0x81, 0x80 | 126, n)
    return head + b"\0\0\0\0" + payload  # a zero key: the payload goes as it is


# --------------------------------------------------------------------------- receivers

def receiver(targets: list, count: int, path: str, conn) -> None:
    """A process holding `count` subscribers (spread over `targets` ports); answers the parent's commands."""
    socks = []
    for i in range(count):
        socks.append(ws_connect(targets[i % len(targets)], path))
    for s in socks:
        s.setblocking(False)
    sel = selectors.DefaultSelector()
    bufs = {}
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
        bufs[i] = bytearray()
    conn.send("ready")
    frames = 0
    sampling = False
    samples = []
    while True:
        if conn.poll():
            cmd = conn.recv()
            if cmd == "count":
                conn.send(frames)
            elif cmd == "sample":
                sampling, samples = True, []
                conn.send("ok")
            elif cmd == "samples":
                sampling = False
                conn.send(samples)
            elif cmd == "stop":
                for s in socks:
                    s.close()
                return
        for key, _ in sel.select(0.05):
            i = key.data
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                continue
            now = time.monotonic_ns()
            buf = bufs[i]
            buf += data
            pos = 0
            end = len(buf)
            while end - pos >= 2:
                n = buf[pos + 1] & 0x7F
                h = 2
                if n == 126:
                    if end - pos < 4:
                        break
                    n = (buf[pos + 2] << 8) | buf[pos + 3]
                    h = 4
                elif n == 127:
                    if end - pos < 10:
                        break
                    n = int.from_bytes(buf[pos + 2:pos + 10], "big")
                    h = 10
                if end - pos < h + n:
                    break
                frames += 1
                if sampling and i == 0 and n >= 20:
                    samples.append(now - int(buf[pos + h:pos + h + 20]))
                pos += h + n
            del buf[:pos]


class Receivers:
    def __init__(self, ports: list, subs: int, procs: int, path: str):
        ctx = multiprocessing.get_context("fork")
        self.pipes = []
        self.procs = []
        for k in range(procs):
            parent, child = ctx.Pipe()
            share = subs // procs + (1 if k < subs % procs else 0)
            p = ctx.Process(target=receiver, args=(ports, share, path, child), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
        for pipe in self.pipes:
            if not pipe.poll(120):
                raise RuntimeError("a receiver process did not connect its subscribers")
            pipe.recv()

    def ask(self, cmd: str) -> list:
        for pipe in self.pipes:
            pipe.send(cmd)
        return [pipe.recv() for pipe in self.pipes]

    def count(self) -> int:
        return sum(self.ask("count"))

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")
        for p in self.procs:
            p.join(10)


# --------------------------------------------------------------------------- one measurement

def publish(sock: socket.socket, size: int, secs: float, rate: float = 0.0) -> int:
    """Send messages of `size` bytes for `secs` (as fast as possible, or `rate` per second): how many."""
    pad = b"x" * max(0, size - 20)
    sent = 0
    start = time.monotonic()
    end = start + secs
    while True:
        now = time.monotonic()
        if now >= end:
            return sent
        if rate:
            due = start + sent / rate
            if due > now:
                time.sleep(min(due - now, 0.01))
                continue
        sock.sendall(masked_text(b"%020d" % time.monotonic_ns() + pad))
        sent += 1


def drain(recv: Receivers, limit: float = 60.0) -> None:
    """Wait until the subscribers stop receiving (the backlog of the previous phase is out)."""
    last = recv.count()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = recv.count()
        if now == last:
            return
        last = now


def measure(pub_port: int, pub_path: str, recv: Receivers, subs: int, size: int, secs: float) -> dict:
    pub = ws_connect(pub_port, pub_path)
    publish(pub, size, min(secs, 0.5))  # warm-up
    drain(recv)
    before = recv.count()
    t0 = time.monotonic()
    sent = publish(pub, size, secs)
    delivered = recv.count() - before
    elapsed = time.monotonic() - t0
    rate = delivered / elapsed  # what arrived while the publisher sent as fast as it could
    max_rate = rate / subs
    drain(recv)
    recv.ask("sample")
    publish(pub, size, secs, rate=max(1.0, max_rate / 2))
    drain(recv)
    lat = sorted(x for part in recv.ask("samples") for x in part)
    pub.close()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] / 1e6 if lat else None
    return {"size": size, "published": sent, "delivered_per_s": round(rate), "max_publish_rate": round(max_rate, 1),
            "latency_rate": round(max_rate / 2, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "samples": len(lat)}


# --------------------------------------------------------------------------- servers

class Proc:
    def __init__(self, argv: list, port: int, what: str, env=None):
        self.port = port
        self.proc = subprocess.Popen(argv, env=env or servers.project_env(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        if not servers.wait_port(port, 30, self.proc):
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError("%s did not start: %s" % (what, err))

    def pids(self) -> list:
        return servers.tree_pids(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_ours(rundir: Path, channels: str) -> Proc:
    rundir.mkdir(parents=True, exist_ok=True)
    port = servers.free_port()
    conf = rundir / "nginx.conf"
    servers.render(BENCH / "fanout" / "ours.conf", conf, {"port": port, "workers": 2, "channels": channels,
                                                          "rundir": rundir, "bench": BENCH, "root": ROOT})
    proc = Proc([sys.executable, "-m", "cosocket", "-p", str(rundir), "-c", str(conf), "-g", "daemon off;"],
                port, "cosocket server")
    time.sleep(0.5)  # both workers up
    return proc


def start_redis(rundir: Path) -> Proc:
    rundir.mkdir(parents=True, exist_ok=True)
    port = servers.free_port()
    return Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(rundir)], port, "redis-server")


def run_target(name: str, args, rundir: Path) -> list:
    started = []
    try:
        if name == "ours":
            srv = start_ours(rundir / "ours", "embedded")
            started.append(srv)
            ports, pub_port, sub_path, pub_path = [srv.port], srv.port, "/sub", "/pub"
        elif name == "ours-redis":
            red = start_redis(rundir / "redis")
            started.append(red)
            a = start_ours(rundir / "a", "redis://127.0.0.1:%d/0" % red.port)
            b = start_ours(rundir / "b", "redis://127.0.0.1:%d/0" % red.port)
            started += [a, b]
            ports, pub_port, sub_path, pub_path = [a.port, b.port], a.port, "/sub", "/pub"
        elif name == "websockets":
            port = servers.free_port()
            srv = Proc([sys.executable, str(BENCH / "fanout" / "websockets_broadcast.py"), "--port", str(port)],
                       port, "websockets")
            started.append(srv)
            ports, pub_port, sub_path, pub_path = [port], port, "/sub", "/pub"
        elif name == "redis-loop":
            red = start_redis(rundir / "redis")
            started.append(red)
            srv = start_ours(rundir / "loop", "embedded")
            started.append(srv)
            q = "?redis=%d" % red.port
            ports, pub_port, sub_path, pub_path = [srv.port], srv.port, "/redis_sub" + q, "/redis_pub" + q
        else:
            raise ValueError(name)
        recv = Receivers(ports, args.subs, args.procs, sub_path)
        try:
            time.sleep(1.0)  # every subscription in place
            out = []
            for size in args.sizes:
                row = measure(pub_port, pub_path, recv, args.subs, size, args.secs)
                row["target"] = name
                print(json.dumps(row), flush=True)
                out.append(row)
            return out
        finally:
            recv.stop()
    finally:
        for p in reversed(started):
            p.stop()


def rss_of(pids: list) -> int:
    return servers.rss_bytes(pids)


def memory(args, rundir: Path) -> dict:
    """RSS growth per idle connection of the server: subscribed (/sub) and plain (/echo)."""
    out = {}
    for path in ("/echo", "/sub"):
        srv = start_ours(rundir / ("mem" + path.replace("/", "-")), "embedded")
        try:
            time.sleep(0.5)
            before = rss_of(srv.pids())
            socks = [ws_connect(srv.port, path) for _ in range(args.idle)]
            time.sleep(1.0)
            after = rss_of(srv.pids())
            for s in socks:
                s.close()
        finally:
            srv.stop()
        out[path] = round((after - before) / args.idle)
    row = {"target": "ours", "memory_per_idle_connection_bytes": {"echo": out["/echo"], "subscribed": out["/sub"]},
           "connections": args.idle}
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma list of %s" % ",".join(TARGETS))
    ap.add_argument("--subs", type=int, default=1000, help="subscribers (default 1000)")
    ap.add_argument("--procs", type=int, default=2, help="receiving processes (default 2)")
    ap.add_argument("--sizes", default="64,1024", help="message sizes in bytes (default 64,1024; at least 20)")
    ap.add_argument("--secs", type=float, default=5.0, help="seconds per phase (default 5)")
    ap.add_argument("--idle", type=int, default=1000, help="idle connections for the memory figure (0: skip)")
    ap.add_argument("--out", default=str(BENCH / "results" / "fanout.json"), help="where the rows go")
    args = ap.parse_args(argv)
    args.sizes = [max(20, int(s)) for s in args.sizes.split(",")]
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.subs * 2 + 1000)), hard))
    except (ValueError, OSError):
        pass
    rundir = BENCH / "build" / "fanout"
    rows = []
    for name in args.targets.split(","):
        try:
            rows += run_target(name, args, rundir / name)
        except (RuntimeError, OSError) as exc:
            print(json.dumps({"target": name, "skipped": str(exc)}), flush=True)
    if args.idle:
        rows.append(memory(args, rundir))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
