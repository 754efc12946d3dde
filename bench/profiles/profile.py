#!/usr/bin/env python3
"""Profile this project's echo server's worker with py-spy while bench/build/wsload drives it.

    python3 bench/profiles/profile.py --size 64 --secs 8          # echo at 64 B
    python3 bench/profiles/profile.py --connect --secs 8          # handshake storm
    python3 bench/profiles/profile.py --size 65536 --native       # with C frames

The worker runs pinned to core 0 and wsload to core 1 (as bench/run.py does).
Writes <name>.svg (flame graph), <name>.txt (collapsed stacks, py-spy's raw
format) and <name>.top.txt (self and inclusive time per function) next to
this file, and prints wsload's RESULT line (throughput under the sampler is
lower than without it).
"""
from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import loadgen  # noqa: E402
import servers  # noqa: E402


def start_ours(core: str) -> servers.Running:
    """Our echo server, one worker, in its own run dir (not bench/run.py's)."""
    port = servers.free_port()
    rundir = servers.RUN_DIR / "profile-ours"
    if rundir.exists():
        shutil.rmtree(rundir)
    (rundir / "logs").mkdir(parents=True)
    argv = ["taskset", "-c", core] + servers._ours_argv(rundir, port, 1)
    out = open(rundir / "logs" / "stdout.log", "wb")
    proc = subprocess.Popen(argv, cwd=str(rundir), env=servers.project_env(), stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    running = servers.Running(servers.PEERS[0], proc, port, rundir, 1)
    if not servers.wait_port(port, 20, proc):
        running.stop()
        raise SystemExit("server did not start:\n" + running.log_tail())
    return running


def top_table(collapsed: Path, limit: int = 40) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: collections.Counter = collections.Counter()
    incl: collections.Counter = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0] + ")" if " (" in f else f
                  for f in stack.split(";")]
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    rows = ["samples: %d" % total, "", "%6s %6s  %s" % ("self%", "incl%", "function (file)")]
    for name, n in own.most_common(limit):
        rows.append("%6.1f %6.1f  %s" % (100.0 * n / total, 100.0 * incl[name] / total, name))
    rows += ["", "inclusive, top %d:" % limit]
    for name, n in incl.most_common(limit):
        rows.append("%6.1f %6.1f  %s" % (100.0 * own[name] / total, 100.0 * n / total, name))
    return "\n".join(rows) + "\n"


def perf_samples(pid: int, secs: float, dest: Path) -> None:
    """perf's cpu-clock samples of `pid` (user and kernel): the share per DSO and the top symbols, into `dest`."""
    data = "/tmp/profile-perf-%d.data" % pid
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-p", str(pid), "-o", data,
                    "--", "sleep", str(secs)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = []
    for keys, limit in (("dso", 15), ("dso,sym", 45)):
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", keys, "--percent-limit", "0.4"],
                             capture_output=True, text=True).stdout
        rows = [l for l in rep.splitlines() if l.strip() and not l.startswith("#")]
        out.append("## perf report --sort %s\n" % keys + "\n".join(rows[:limit]))
    dest.write_text("\n\n".join(out) + "\n")
    Path(data).unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--secs", type=float, default=8.0)
    ap.add_argument("--connect", action="store_true", help="handshake storm (wsload -C, 8 loops)")
    ap.add_argument("--native", action="store_true", help="include C frames (py-spy --native)")
    ap.add_argument("--rate", type=int, default=250, help="samples per second")
    ap.add_argument("--perf", action="store_true",
                    help="sample with perf (cpu-clock, kernel included) instead of py-spy: per-DSO and per-symbol tables")
    ap.add_argument("--name", default=None)
    opts = ap.parse_args()
    name = opts.name or (("connect" if opts.connect else "echo-%d" % opts.size)
                         + ("-native" if opts.native else "") + ("-perf" if opts.perf else ""))
    loadgen.build()
    running = start_ours("0")
    try:
        time.sleep(0.5)
        worker = [p for p in running.pids() if p != running.proc.pid][0]
        args = (["-c", "8", "-C"] if opts.connect else ["-c", str(opts.conns), "-s", str(opts.size)])
        args += ["-d", str(opts.secs), "-w", "0.5"]
        wl = subprocess.Popen(["taskset", "-c", "1", str(loadgen.BINARY), "-H", "127.0.0.1", "-p",
                               str(running.port), "-u", "/echo"] + args, stdout=subprocess.PIPE, text=True)
        time.sleep(0.7)
        if opts.perf:
            perf_samples(worker, opts.secs - 1, HERE / (name + ".txt"))
        else:
            spy = ["py-spy", "record", "-p", str(worker), "-d", str(int(opts.secs - 1)), "-r", str(opts.rate)]
            if opts.native:
                spy.append("--native")
            subprocess.run(spy + ["-f", "raw", "-o", str(HERE / (name + ".txt"))], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, _ = wl.communicate(timeout=opts.secs + 30)
        result = [l for l in out.splitlines() if l.startswith("RESULT")]
        print(result[-1] if result else out[-400:])
    finally:
        running.stop()
    collapsed = HERE / (name + ".txt")
    if opts.perf:
        print(collapsed.read_text()[:4000])
        return
    (HERE / (name + ".top.txt")).write_text(
        "# %s: %s\n" % (name, result[-1] if result else "?") + top_table(collapsed))
    flame = shutil.which("flamegraph.pl")
    if flame:
        with open(HERE / (name + ".svg"), "w") as f:
            subprocess.run([flame, str(collapsed)], stdout=f)
    print((HERE / (name + ".top.txt")).read_text()[:3000])


if __name__ == "__main__":
    main()
