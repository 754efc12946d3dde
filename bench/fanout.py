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

For each target and size, with the same publisher and the same receivers:

1. max rate: for --secs the publisher keeps at most --window messages in
   flight (published and not yet received by every subscriber; each message
   carries a sequence number and the receivers report how far their slowest
   open subscriber got), so it goes as fast as the target delivers and no
   queue of the target fills up (no drops, no overflow closes). The phase
   ends once the last window is received (or after --settle seconds).
   delivered_per_s = frames received by all subscribers / the phase's
   seconds; max_publish_rate = that / open subscribers (messages per second
   every subscriber got); delivered_ratio = frames received / (published x
   open subscribers), 1.0 when nothing was lost.
2. latency: once every subscriber has the last message and the frame count
   has stopped moving, the publisher sends on a fixed schedule at 50% of
   the max rate just measured, for --secs; each message carries its send
   time (CLOCK_MONOTONIC) and the first subscriber of each receiving
   process gives the publish-to-delivery latency (p50/p99).
   latency_settled is false when a wait for the subscribers hit --settle.
   subscribers_closed counts the subscribers the target disconnected so far
   (the window then follows the open ones).

Then, for `ours`, the memory per idle subscribed connection next to an idle
/echo connection (RSS of the server's processes). Receivers are --procs
processes of plain non-blocking sockets; only 127.0.0.1 is used. Every
wait is bounded: the default run takes about two minutes on two cores.
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
# Every message carries its send time (20 digits, CLOCK_MONOTONIC ns) then its sequence number (12 digits).
STAMP = 32


def message(seq: int, pad: bytes) -> bytes:
    return masked_text(b"%020d%012d" % (time.monotonic_ns(), seq) + pad)


def receiver(targets: list, count: int, path: str, conn, shared) -> None:
    """A process holding `count` subscribers (spread over `targets` ports); answers the parent's commands.

    `shared` (frames, lowest, gone): frames received by all its subscribers, the lowest last sequence
    number among its open subscribers (how far the slowest one got), subscribers the server closed.
    """
    frames_v, lowest_v, gone_v = shared
    socks = []
    for i in range(count):
        socks.append(ws_connect(targets[i % len(targets)], path))
    for s in socks:
        s.setblocking(False)
    sel = selectors.DefaultSelector()
    bufs = {}
    last = {}  # open subscriber -> the sequence number of the last message it got
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
        bufs[i] = bytearray()
        last[i] = -1
    conn.send("ready")
    frames = 0
    sampling = False
    samples = []
    while True:
        if conn.poll():
            cmd = conn.recv()
            if cmd == "sample":
                sampling, samples = True, []
                conn.send("ok")
            elif cmd == "samples":
                sampling = False
                conn.send(samples)
            elif cmd == "stop":
                for s in socks:
                    s.close()
                return
        events = sel.select(0.02)
        for key, _ in events:
            i = key.data
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                last.pop(i, None)
                gone_v.value += 1
                continue
            now = time.monotonic_ns()
            buf = bufs[i]
            buf += data
            pos = 0
            end = len(buf)
            tail = -1  # where the last complete frame's payload starts
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
                if n >= STAMP and buf[pos] & 0x0F == 1:
                    tail = pos + h
                    if sampling and i == 0:
                        samples.append(now - int(buf[tail:tail + 20]))
                pos += h + n
            if tail >= 0 and i in last:
                last[i] = int(buf[tail + 20:tail + STAMP])  # delivery is in order: the newest so far
            del buf[:pos]
        if events:
            frames_v.value = frames
            lowest_v.value = min(last.values()) if last else 1 << 62


class Receivers:
    def __init__(self, ports: list, subs: int, procs: int, path: str):
        ctx = multiprocessing.get_context("fork")
        self.pipes = []
        self.procs = []
        self.shared = []
        for k in range(procs):
            parent, child = ctx.Pipe()
            share = subs // procs + (1 if k < subs % procs else 0)
            shared = (ctx.RawValue("q", 0), ctx.RawValue("q", -1 if share else 1 << 62), ctx.RawValue("q", 0))
            p = ctx.Process(target=receiver, args=(ports, share, path, child, shared), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
            self.shared.append(shared)
        for pipe, p in zip(self.pipes, self.procs):
            if not pipe.poll(120):
                raise RuntimeError("a receiver process did not connect its subscribers")
            try:
                pipe.recv()
            except EOFError:
                raise RuntimeError("a receiver process could not connect its subscribers") from None

    def ask(self, cmd: str) -> list:
        for pipe in self.pipes:
            pipe.send(cmd)
        return [pipe.recv() for pipe in self.pipes]

    def count(self) -> int:
        """Frames received so far by all the subscribers."""
        return sum(sh[0].value for sh in self.shared)

    def lowest(self) -> int:
        """The last sequence number the slowest open subscriber got."""
        return min(sh[1].value for sh in self.shared)

    def gone(self) -> int:
        """Subscribers whose connection the server closed."""
        return sum(sh[2].value for sh in self.shared)

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send("stop")
            except OSError:
                pass
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()


# --------------------------------------------------------------------------- one measurement

class Publisher:
    """The publishing connection; every message gets the next sequence number."""

    def __init__(self, port: int, path: str, recv: Receivers, size: int, seq: int):
        self.sock = ws_connect(port, path)
        self.recv = recv
        self.pad = b"x" * max(0, size - STAMP)
        self.seq = seq  # the next sequence number; the receivers have everything before it

    def send(self) -> None:
        self.sock.sendall(message(self.seq, self.pad))
        self.seq += 1

    def windowed(self, secs: float, window: int) -> int:
        """As fast as the slowest subscriber allows: at most `window` messages published and not yet
        received by every subscriber. How many were sent."""
        first = self.seq
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if self.seq - 1 - self.recv.lowest() < window:
                self.send()
            else:
                time.sleep(0.0002)
        return self.seq - first

    def paced(self, secs: float, rate: float) -> int:
        """`rate` messages per second on a fixed schedule for `secs`. How many were sent."""
        first = self.seq
        start = time.monotonic()
        end = start + secs
        while True:
            now = time.monotonic()
            if now >= end:
                return self.seq - first
            due = start + (self.seq - first) / rate
            if due > now:
                time.sleep(min(due - now, 0.01))
                continue
            self.send()

    def settle(self, limit: float) -> bool:
        """Wait until every open subscriber got the last message and the frame count stopped moving
        (at most `limit` seconds): whether it did."""
        deadline = time.monotonic() + limit
        last = self.recv.count()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.recv.count()
            if self.recv.lowest() >= self.seq - 1 and now == last:
                return True
            last = now
        return False

    def close(self) -> None:
        self.sock.close()


def measure(pub_port: int, pub_path: str, recv: Receivers, subs: int, size: int, args, seq: int) -> dict:
    pub = Publisher(pub_port, pub_path, recv, size, seq)
    try:
        pub.windowed(min(args.secs, 0.5), args.window)  # warm-up
        pub.settle(args.settle)
        before = recv.count()
        t0 = time.monotonic()
        sent = pub.windowed(args.secs, args.window)
        pub.settle(args.settle)  # the last window is part of the phase
        elapsed = time.monotonic() - t0
        delivered = recv.count() - before
        rate = delivered / elapsed
        live = max(1, subs - recv.gone())
        max_rate = rate / live  # messages per second every subscriber received
        row = {"size": size, "published": sent, "delivered": delivered,
               "delivered_ratio": round(delivered / (sent * live), 4) if sent else None,
               "delivered_per_s": round(rate), "max_publish_rate": round(max_rate, 1)}
        lat_rate = max_rate / 2
        lat = []
        if lat_rate > 0:
            settled = pub.settle(args.settle)
            recv.ask("sample")
            pub.paced(args.secs, lat_rate)
            caught_up = pub.settle(args.settle)
            lat = sorted(x for part in recv.ask("samples") for x in part)
            row["latency_settled"] = settled and caught_up
    finally:
        pub.close()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(len(lat) * p))] / 1e6, 2) if lat else None
    row.update({"latency_rate": round(lat_rate, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "samples": len(lat),
                "subscribers_closed": recv.gone(), "next_seq": pub.seq})
    return row


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
            seq = 0
            for size in args.sizes:
                row = measure(pub_port, pub_path, recv, args.subs, size, args, seq)
                seq = row.pop("next_seq")
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
    ap.add_argument("--sizes", default="64,1024", help="message sizes in bytes (default 64,1024; at least %d)" % STAMP)
    ap.add_argument("--secs", type=float, default=5.0, help="seconds per phase (default 5)")
    ap.add_argument("--window", type=int, default=64,
                    help="max-rate phase: messages published and not yet received by every subscriber (default 64)")
    ap.add_argument("--settle", type=float, default=10.0,
                    help="at most this many seconds waiting for the subscribers to catch up (default 10)")
    ap.add_argument("--idle", type=int, default=1000, help="idle connections for the memory figure (0: skip)")
    ap.add_argument("--out", default=str(BENCH / "results" / "fanout.json"), help="where the rows go")
    args = ap.parse_args(argv)
    if args.window < 1 or args.secs <= 0 or args.subs < 1 or args.procs < 1:
        ap.error("--window, --secs, --subs and --procs must be positive")
    args.sizes = [max(STAMP, int(s)) for s in args.sizes.split(",")]
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
