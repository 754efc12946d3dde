"""The echo servers under test: how each one starts and stops, and what it costs (RSS, CPU) from /proc.

Every server listens on 127.0.0.1 only, serves /echo, and runs in its own
session so that it and its workers stop together.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS_DIR = BENCH / "peers"
RUN_DIR = BENCH / "build" / "run"
NGINX_MODULES = Path("/usr/lib/nginx/modules")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def project_env(root: Path = ROOT) -> dict:
    """The environment for child processes: the checkout `root` (this one by default) first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen) -> bool:
    """True once something accepts on 127.0.0.1:port; False if `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def render(template: Path, dest: Path, values: dict) -> None:
    """Copy an nginx-style conf, replacing {name} placeholders (not str.format: confs use braces)."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("{%s}" % name, str(value))
    dest.write_text(text)


@dataclass
class Peer:
    """One server under test.

    `argv(rundir, port, workers)` gives its command line; `unusable()` returns
    None when it can run here, else the reason it is skipped.
    """
    name: str
    argv: Callable[[Path, int, int], list]
    unusable: Callable[[], Optional[str]]
    multi_worker: bool = False
    notes: str = ""
    #: the workloads this server takes part in (None: all of them)
    workloads: Optional[tuple] = None
    #: the checkout whose packages the server imports (this one unless it is a baseline)
    root: Path = ROOT
    #: the command line of its permessage-deflate variant, like `argv` (None: it has none)
    deflate_argv: Optional[Callable[[Path, int, int], list]] = None


def _python_script_peer(name: str, script: str, module: str, notes: str = "", deflate: bool = False) -> Peer:
    def argv(rundir: Path, port: int, workers: int) -> list:
        return [sys.executable, str(PEERS_DIR / script), "--port", str(port)]

    def deflate_argv(rundir: Path, port: int, workers: int) -> list:
        return argv(rundir, port, workers) + ["--deflate"]

    def unusable() -> Optional[str]:
        probe = subprocess.run([sys.executable, "-c", "import " + module],
                               capture_output=True, text=True)
        if probe.returncode:
            return "python module %r is not installed (run bench/setup.sh)" % module
        return None

    return Peer(name, argv, unusable, notes=notes, deflate_argv=deflate_argv if deflate else None)


def _openresty_argv(rundir: Path, port: int, workers: int) -> list:
    (rundir / "logs").mkdir(parents=True, exist_ok=True)
    (rundir / "tmp").mkdir(exist_ok=True)
    render(PEERS_DIR / "openresty" / "nginx.conf", rundir / "nginx.conf",
           {"port": port, "workers": workers, "here": PEERS_DIR / "openresty"})
    argv = [shutil.which("nginx") or "nginx", "-p", str(rundir), "-c", str(rundir / "nginx.conf")]
    if os.geteuid() == 0:
        argv += ["-g", "user root;"]  # workers read echo.lua from the checkout, wherever it is
    return argv


def _openresty_unusable() -> Optional[str]:
    if not shutil.which("nginx"):
        return "nginx is not installed (run bench/setup.sh)"
    for module in ("ndk_http_module.so", "ngx_http_lua_module.so"):
        if not (NGINX_MODULES / module).exists():
            return "%s is missing (apt-get install libnginx-mod-http-lua)" % (NGINX_MODULES / module)
    if not Path("/usr/share/lua/5.1/nginx/websocket/server.lua").exists():
        return "lua-nginx-websocket is not installed (apt-get install lua-nginx-websocket)"
    return None


def _ours_argv(rundir: Path, port: int, workers: int, script: str = "echo.py") -> list:
    (rundir / "logs").mkdir(parents=True, exist_ok=True)
    render(PEERS_DIR / "cosocket" / "nginx.conf", rundir / "nginx.conf",
           {"port": port, "workers": workers, "here": PEERS_DIR / "cosocket", "script": script})
    return [sys.executable, "-m", "cosocket", "-p", str(rundir), "-c", str(rundir / "nginx.conf"),
            "-g", "daemon off;"]


def _ours_strict_argv(rundir: Path, port: int, workers: int) -> list:
    return _ours_argv(rundir, port, workers, "echo_strict.py")


def _ours_deflate_argv(rundir: Path, port: int, workers: int) -> list:
    return _ours_argv(rundir, port, workers, "echo_deflate.py")


def _ours_unusable(root: Path = ROOT) -> Optional[str]:
    """This project runs once its server and `websocket.server` import and `-t` accepts the conf."""
    check = "import importlib.util, websocket.server; assert importlib.util.find_spec('cosocket.__main__')"
    probe = subprocess.run([sys.executable, "-c", check],
                           capture_output=True, text=True, env=project_env(root), cwd=str(root))
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return "not ready yet: importing websocket.server (or finding cosocket.__main__) fails (%s)" % last
    rundir = RUN_DIR / "conf-test"
    argv = _ours_argv(rundir, free_port(), 1)
    test = subprocess.run(argv[:-2] + ["-t"], capture_output=True, text=True, env=project_env(root),
                          cwd=str(rundir), timeout=30)
    if test.returncode:
        out = (test.stderr + test.stdout).strip().splitlines()
        return "not ready yet: `-t` rejects bench/peers/cosocket/nginx.conf (%s)" % (out[-1] if out else "?")
    return None


OURS = "this project"
OURS_STRICT = "this project strict"

PEERS = [
    # This project: enabled whenever it imports and `-t` accepts its conf (see _ours_unusable).
    Peer(OURS, _ours_argv, _ours_unusable, multi_worker=True, deflate_argv=_ours_deflate_argv,
         notes="python -m cosocket, content_by_python_file echo.py (frame level: upstream's recv_frame loop); "
               "compressed rows: echo_deflate.py (recv_message, permessage_deflate=True)"),
    Peer(OURS_STRICT, _ours_strict_argv, _ours_unusable, workloads=("echo",),
         notes="the same server, echo_strict.py: recv_message, strict=True (every RFC 6455 rule checked)"),
    Peer("openresty", _openresty_argv, _openresty_unusable, multi_worker=True,
         notes="Debian nginx + lua module, lua-resty-websocket 0.08 (nginx.websocket.server)"),
    _python_script_peer("picows", "picows_echo.py", "picows", "asyncio (default loop)"),
    _python_script_peer("aiohttp", "aiohttp_echo.py", "aiohttp",
                        "asyncio (default loop); compressed rows: compress=15", deflate=True),
    _python_script_peer("websockets", "websockets_echo.py", "websockets.asyncio.server",
                        "asyncio (default loop), compression off; compressed rows: compression=\"deflate\"",
                        deflate=True),
    _python_script_peer("gevent-websocket", "gevent_websocket_echo.py", "geventwebsocket",
                        "gevent pywsgi"),
]


BASELINE = "this project baseline"


def baseline_peer(root: Path) -> Peer:
    """The same echo server run from another checkout `root` (an A/B of two commits in one run).

    Its C extension must be built in that checkout (`python setup.py build_ext --inplace`).
    """
    root = Path(root).resolve()
    return Peer(BASELINE, _ours_argv, lambda: _ours_unusable(root), multi_worker=True, root=root,
                notes="this project's echo.py served from %s" % root)


def tree_pids(root: int) -> list:
    """`root` and every process descending from it (from /proc's parent links)."""
    children: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def rss_bytes(pids: list) -> int:
    """Sum of VmRSS over `pids` (processes that vanished count 0)."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pids: list) -> float:
    """User + system CPU seconds used so far by `pids`."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


@dataclass
class Running:
    """A started server: its process, port, and where its logs go."""
    peer: Peer
    proc: subprocess.Popen
    port: int
    rundir: Path
    workers: int
    cpu_mark: float = field(default=0.0)
    time_mark: float = field(default=0.0)

    def pids(self) -> list:
        return tree_pids(self.proc.pid)

    def rss(self) -> int:
        """RSS of the master and its workers, in bytes."""
        return rss_bytes(self.pids())

    def mark(self) -> None:
        """Start a CPU measurement window."""
        self.cpu_mark = cpu_seconds(self.pids())
        self.time_mark = time.monotonic()

    def cpu_pct(self) -> float:
        """The server's CPU use since mark(), in % of one core."""
        elapsed = time.monotonic() - self.time_mark
        return 100.0 * (cpu_seconds(self.pids()) - self.cpu_mark) / elapsed if elapsed > 0 else 0.0

    def log_tail(self, lines: int = 8) -> str:
        out = []
        for name in ("logs/stdout.log", "logs/error.log"):
            path = self.rundir / name
            if path.exists():
                out += path.read_text(errors="replace").strip().splitlines()[-lines:]
        return "\n".join(out)

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after 5 s."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        # workers that outlived their master (same process group)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start(peer: Peer, cores: str, workers: int = 1, timeout: float = 20.0, deflate: bool = False) -> Running:
    """Start `peer` pinned to `cores` (a taskset list, "" for none); raise RuntimeError if it does not listen.

    `deflate` starts its permessage-deflate variant (`peer.deflate_argv`).
    """
    port = free_port()
    rundir = RUN_DIR / peer.name.replace(" ", "-")
    if rundir.exists():
        shutil.rmtree(rundir)
    (rundir / "logs").mkdir(parents=True)
    argv = (peer.deflate_argv if deflate else peer.argv)(rundir, port, workers)
    if cores:
        argv = ["taskset", "-c", cores] + argv
    out = open(rundir / "logs" / "stdout.log", "wb")
    proc = subprocess.Popen(argv, cwd=str(rundir), env=project_env(peer.root), stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    running = Running(peer, proc, port, rundir, workers)
    if not wait_port(port, timeout, proc):
        running.stop()
        raise RuntimeError("%s did not listen on 127.0.0.1:%d:\n%s" % (peer.name, port, running.log_tail()))
    if workers > 1:
        _wait_workers(running, workers, timeout)
    return running


def _wait_workers(running: Running, workers: int, timeout: float) -> None:
    """Give a prefork server time to fork its workers before it is measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(running.pids()) < workers + 1:
        time.sleep(0.05)
    time.sleep(0.2)
