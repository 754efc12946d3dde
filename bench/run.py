#!/usr/bin/env python3
"""One command for the WebSocket echo benchmark: this project against its peers.

    python3 bench/run.py                          # every workload, short (3 rounds x 2 s per point)
    python3 bench/run.py --rounds 5 --secs 10     # the full run the README quotes
    python3 bench/run.py --workloads echo,idle --peers openresty,picows --rounds 1 --secs 1

Each server runs one worker pinned (taskset) to core 0; the load generator
(bench/wsload.c, built here with cc -O2) runs on core 1. Rounds interleave the
servers: for each round, for each server: start, warm up, measure, stop.
Medians over the rounds go to stdout, bench/results/latest.json and
bench/results/latest.png. Only 127.0.0.1 is ever used.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402

WORKLOADS = ("echo", "latency", "connect", "idle", "client", "workers", "deflate")
SIZES = (64, 1024, 16384, 1048576)
# compressed echo (permessage-deflate): JSON-like text of these sizes, the points report.POINTS names
DEFLATE_SIZES = (64, 16384)
# the text message echoed on each connection of the idle compressed point before it idles
DEFLATE_IDLE_MSG = 1024
SERVER_CORE, LOAD_CORE = "0", "1"


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="comma list of %s (default: all)" % ",".join(WORKLOADS))
    ap.add_argument("--peers", default=",".join(p.name for p in servers.PEERS),
                    help="comma list of servers (default: all): %s" % ",".join(p.name for p in servers.PEERS))
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians over them (default 3)")
    ap.add_argument("--secs", type=float, default=2.0, help="measured seconds per point (default 2)")
    ap.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds before each point (default 0.5)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="echo message sizes in bytes")
    ap.add_argument("--conns", type=int, default=50, help="connections for echo points (default 50)")
    ap.add_argument("--rate", type=float, default=2000.0,
                    help="offered load of the latency point, msgs/s over all connections (default 2000)")
    ap.add_argument("--connect-concurrency", type=int, default=8,
                    help="connect/handshake/close loops running at once (default 8)")
    ap.add_argument("--idle-conns", type=int, default=10000, help="idle connections held (default 10000)")
    ap.add_argument("--deflate-idle-conns", type=int, default=2000,
                    help="idle compressed connections held by the deflate workload (default 2000)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"),
                    help="directory for latest.json and latest.png")
    ap.add_argument("--baseline", metavar="TREE",
                    help="also measure this project's echo from another checkout TREE (e.g. a worktree of the "
                         "previous commit, C extension built in place) in the same interleaved rounds")
    ap.add_argument("--no-setup", action="store_true", help="do not run bench/setup.sh first")
    return ap.parse_args(argv)


def raise_fd_limit(need: int) -> None:
    """Lift RLIMIT_NOFILE (inherited by the servers and wsload) to at least `need` where allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return
        except (ValueError, OSError):
            print("bench: cannot raise the open-file limit to %d (hard limit %d)" % (need, hard), file=sys.stderr)
            need = hard
    if soft == resource.RLIM_INFINITY or soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def versions() -> dict:
    """Versions of everything measured, for the JSON."""
    out = {"python": platform.python_version(), "kernel": platform.release()}
    for dist in ("picows", "aiohttp", "websockets", "gevent-websocket", "gevent", "cosocket-websocket"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    for pkg in ("nginx", "libnginx-mod-http-lua", "lua-nginx-websocket", "lua-resty-core"):
        probe = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        out[pkg] = probe.stdout.strip() or None
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                out["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return out


class Bench:
    """Runs the selected workloads round by round and collects the raw runs."""

    def __init__(self, opts: argparse.Namespace):
        self.opts = opts
        self.workloads = [w.strip() for w in opts.workloads.split(",") if w.strip()]
        unknown = set(self.workloads) - set(WORKLOADS)
        if unknown:
            raise SystemExit("bench: unknown workload(s): %s" % ", ".join(sorted(unknown)))
        wanted = [p.strip() for p in opts.peers.split(",") if p.strip()]
        by_name = {p.name: p for p in servers.PEERS}
        if opts.baseline:
            by_name[servers.BASELINE] = servers.baseline_peer(Path(opts.baseline))
            wanted.insert(1 if servers.OURS in wanted else 0, servers.BASELINE)
        unknown = set(wanted) - set(by_name)
        if unknown:
            raise SystemExit("bench: unknown peer(s): %s" % ", ".join(sorted(unknown)))
        self.skipped: dict = {}
        self.peers = []
        for name in wanted:
            reason = by_name[name].unusable()
            if reason:
                self.skipped[name] = reason
                print("bench: skipping %s: %s" % (name, reason), file=sys.stderr)
            else:
                self.peers.append(by_name[name])
        self.sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
        self.runs: dict = {}  # point -> peer -> [result, ...]

    def record(self, point: str, peer: str, result: dict) -> None:
        self.runs.setdefault(point, {}).setdefault(peer, []).append(result)
        shown = {k: result[k] for k in ("msgs_per_s", "p50_us", "p99_us", "bytes_per_conn", "cpu_pct",
                                        "server_cpu_pct", "errors", "error") if k in result}
        print("  %-14s %-22s %s" % (point, peer, shown), file=sys.stderr, flush=True)

    # -- one server, one point ---------------------------------------------------------------

    def echo_point(self, srv: servers.Running, args: list, cores: str = LOAD_CORE) -> dict:
        """wsload with a warm-up; adds the server's CPU share over the measured window."""
        o = self.opts
        box = {}
        result = loadgen.wsload(srv.port, args + ["-d", str(o.secs), "-w", str(o.warmup)], cores,
                                timeout=o.secs + o.warmup + 90, at_measure=srv.mark, delay=o.warmup + 0.05)
        box["server_cpu_pct"] = srv.cpu_pct()
        if "error" not in result:
            result.update(box)
            if result.get("alive", o.conns) < result.get("conns", 0) and "connect" != result.get("mode"):
                result["lost_conns"] = result["conns"] - result["alive"]
        return result

    def idle_point(self, srv: servers.Running, conns: int = 0, extra: tuple = ()) -> dict:
        """RSS of the server's processes before and while holding `conns` (--idle-conns) idle connections.

        `extra` are wsload options for the connections (the deflate workload's: compression, one message).
        """
        time.sleep(0.3)
        before = srv.rss()
        held: dict = {}

        def sample(ready: dict) -> None:
            time.sleep(0.5)
            held["rss"] = srv.rss()

        ready = loadgen.hold_idle(srv.port, conns or self.opts.idle_conns, LOAD_CORE, sample, extra=extra)
        if "error" in ready:
            return ready
        conns = int(ready.get("conns", 0))
        if conns <= 0:
            return {"error": "no connection was opened"}
        return {"conns": conns, "open_errors": ready.get("errors", 0), "ramp_secs": ready.get("secs"),
                "rss_before": before, "rss_after": held["rss"],
                "bytes_per_conn": (held["rss"] - before) / conns}

    # -- rounds ------------------------------------------------------------------------------

    def start(self, peer: servers.Peer, cores: str = SERVER_CORE, workers: int = 1, deflate: bool = False):
        """Start `peer` (its compressing variant if `deflate`); on failure, skip it for the rest of the run."""
        if peer.name in self.skipped:
            return None
        try:
            return servers.start(peer, cores, workers, deflate=deflate)
        except RuntimeError as exc:
            print("bench: skipping %s from now on: %s" % (peer.name, exc), file=sys.stderr)
            lines = str(exc).strip().splitlines()
            self.skipped[peer.name] = "%s %s (logs in %s)" % (
                lines[0], lines[-1].strip() if len(lines) > 1 else "",
                servers.RUN_DIR / peer.name.replace(" ", "-") / "logs")
            return None

    def server_round(self, peer: servers.Peer) -> None:
        """Echo sizes, latency and connect rate on one server start; idle on a fresh one."""
        o = self.opts
        points = []
        wanted = self.workloads if peer.workloads is None else [w for w in self.workloads if w in peer.workloads]
        if "echo" in wanted:
            points += [("echo_%d" % size, ["-c", str(o.conns), "-s", str(size)]) for size in self.sizes]
        if "latency" in wanted:
            points.append(("latency", ["-c", str(o.conns), "-s", "64", "-r", str(o.rate)]))
        if "connect" in wanted:
            points.append(("connect", ["-C", "-c", str(o.connect_concurrency)]))
        srv = None
        for point, args in points:
            if srv is None or srv.proc.poll() is not None:
                srv = self.start(peer)
                if srv is None:
                    return
            result = self.echo_point(srv, args)
            if srv.proc.poll() is not None:
                result = {"error": "server exited during the run: " + srv.log_tail(3)}
            self.record(point, peer.name, result)
        if srv is not None:
            srv.stop()
        if "idle" in wanted:
            srv = self.start(peer)
            if srv is not None:
                self.record("idle", peer.name, self.idle_point(srv))
                srv.stop()
        if "deflate" in wanted and peer.deflate_argv is not None:
            self.deflate_round(peer)

    def deflate_round(self, peer: servers.Peer) -> None:
        """Compressed echo at DEFLATE_SIZES, then memory per idle compressed connection on a fresh start.

        Echo: wsload -z offers permessage-deflate with no context takeover either
        way and sends one precompressed JSON-like text message, so every message
        is inflated and deflated by the server. Idle: wsload -Z offers it with the
        server's defaults (context takeover: the zlib state a connection keeps),
        and each connection echoes one message before it idles.
        """
        o = self.opts
        srv = None
        for size in DEFLATE_SIZES:
            if srv is None or srv.proc.poll() is not None:
                srv = self.start(peer, deflate=True)
                if srv is None:
                    return
            result = self.echo_point(srv, ["-z", "-t", "-c", str(o.conns), "-s", str(size)])
            if srv.proc.poll() is not None:
                result = {"error": "server exited during the run: " + srv.log_tail(3)}
            self.record("deflate_%d" % size, peer.name, result)
        if srv is not None:
            srv.stop()
        srv = self.start(peer, deflate=True)
        if srv is not None:
            self.record("idle_deflate", peer.name,
                        self.idle_point(srv, o.deflate_idle_conns, ("-Z", "-t", "-s", str(DEFLATE_IDLE_MSG))))
            srv.stop()

    def workers_round(self) -> None:
        """Throughput at 64 B with 1 and 2 workers, server and load generator both unpinned."""
        for peer in (p for p in self.peers if p.multi_worker):
            for workers in (1, 2):
                srv = self.start(peer, cores="", workers=workers)
                if srv is None:
                    break
                result = self.echo_point(srv, ["-c", str(max(self.opts.conns, 100)), "-s", "64"], cores="")
                self.record("workers_%d" % workers, peer.name, result)
                srv.stop()

    def client_round(self) -> None:
        """This project's client and the websockets client against one fixed server (OpenResty, else picows)."""
        fixed = next((p for p in self.peers if p.name == "openresty"), None) \
            or next((p for p in servers.PEERS if p.name == "picows" and not p.unusable()), None)
        if fixed is None:
            self.skipped["client"] = "no fixed server (openresty or picows) to run the clients against"
            return
        self.fixed_server = fixed.name
        clients = [(report.OURS_CLIENT, "ours_client.py"), ("websockets client", "websockets_client.py")]
        for name, script in clients:
            reason = loadgen.client_unusable(script)
            if reason:
                self.skipped[name] = reason
                continue
            srv = self.start(fixed)
            if srv is None:
                return
            o = self.opts
            srv.mark()
            result = loadgen.python_client(script, srv.port, o.conns, 64, o.secs, o.warmup, LOAD_CORE)
            result["server_cpu_pct"] = srv.cpu_pct()
            self.record("client", name, result)
            srv.stop()

    def run(self) -> dict:
        started = time.time()
        for rnd in range(self.opts.rounds):
            print("bench: round %d/%d" % (rnd + 1, self.opts.rounds), file=sys.stderr, flush=True)
            # rotate the order each round so no server always runs first (or last)
            order = self.peers[rnd % len(self.peers):] + self.peers[:rnd % len(self.peers)] if self.peers else []
            for peer in order:
                self.server_round(peer)
            if "workers" in self.workloads:
                self.workers_round()
            if "client" in self.workloads:
                self.client_round()
        return self.document(time.time() - started)

    def document(self, elapsed: float) -> dict:
        o = self.opts
        results = {}
        for point in report.POINTS:  # fixed point order; servers in the configured order
            if point not in self.runs:
                continue
            results[point] = {peer: {"median": report.summarize(runs), "runs": runs}
                              for peer, runs in self.runs[point].items()}
        doc = {
            "meta": {
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "command": " ".join([os.path.basename(sys.executable), "bench/run.py"] + sys.argv[1:]),
                "rounds": o.rounds, "secs": o.secs, "warmup": o.warmup, "conns": o.conns,
                "rate": o.rate, "connect_concurrency": o.connect_concurrency, "idle_conns": o.idle_conns,
                "deflate_idle_conns": o.deflate_idle_conns, "deflate_idle_msg": DEFLATE_IDLE_MSG,
                "short": o.rounds < 3 or o.secs < 5,
                "server_core": SERVER_CORE, "load_core": LOAD_CORE,
                "fixed_server_for_clients": getattr(self, "fixed_server", None),
                "loadavg_at_end": os.getloadavg(), "elapsed_secs": round(elapsed, 1),
                "versions": versions(),
                "peers": {p.name: p.notes for p in servers.PEERS},
            },
            "skipped": self.skipped,
            "results": results,
        }
        doc["ratios"] = report.ratios(results)
        return doc


def main(argv=None) -> int:
    opts = parse_args(argv)
    if os.cpu_count() and os.cpu_count() < 2:
        print("bench: fewer than 2 cores; pinning will put server and load on one core", file=sys.stderr)
    if not opts.no_setup:
        env = dict(os.environ, PYTHON=sys.executable)  # install into the Python running the bench
        setup = subprocess.run(["bash", str(Path(__file__).resolve().parent / "setup.sh")], env=env)
        if setup.returncode:
            print("bench: bench/setup.sh failed (exit %d); servers that are missing will be skipped"
                  % setup.returncode, file=sys.stderr)
    raise_fd_limit(opts.idle_conns + 2048)
    loadgen.build()
    bench = Bench(opts)
    doc = bench.run()
    out = Path(opts.out)
    report.write_json(doc, out / "latest.json")
    try:
        report.write_chart(doc, out / "latest.png")
    except ImportError:
        print("bench: matplotlib missing, no chart (pip install -e .[bench])", file=sys.stderr)
    print(report.table(doc))
    print("\nwrote %s and %s" % (out / "latest.json", out / "latest.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
