"""Start the real prefork server as a subprocess for a test.

    with ServerProcess(tmp_path, conf_body) as srv:
        srv.port          # the port picked for `listen {port}` in the conf
        srv.url("/echo")  # "ws://127.0.0.1:PORT/echo"
        srv.error_log()   # text of logs/error.log so far

`conf_body` is a complete nginx.conf text in which `{port}` (and any other
`{name}` given in `fmt`) is substituted; the prefix is `tmp_path`, with
`logs/` created.  The server runs in the foreground (`daemon off` is added
with -g) and is stopped with SIGTERM at the end (or `stop(sig)`).
"""
from __future__ import annotations

import os
import re
import signal as _signal  # the class below has a method named `signal`
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(http_body: str, python_path: str, workers: int = 1, main: str = "",
               worker_connections: int = 64) -> str:
    """A complete test nginx.conf: workers, logs at info, `python_path`, `main` directives, http { http_body }."""
    return ('worker_processes %d;\nerror_log logs/error.log info;\npid logs/nginx.pid;\npython_path "%s";\n'
            "events { worker_connections %d; }\n%s\nhttp {\n%s\n}\n"
            % (workers, python_path, worker_connections, main, http_body))


def children(pid: int) -> list:
    """Pids of the live (not zombie) children of `pid`, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return sorted(out)


def wait_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError("nothing listens on %s:%d after %.1fs" % (host, port, timeout))
            time.sleep(0.02)


class ServerProcess:
    def __init__(self, prefix, conf_body: str, fmt: dict | None = None, port: int | None = None,
                 extra_args: tuple = (), wait: bool = True):
        self.prefix = Path(prefix)
        self.port = port or free_port()
        values = {"port": self.port, "prefix": str(self.prefix), "root": str(ROOT)}
        values.update(fmt or {})
        (self.prefix / "logs").mkdir(parents=True, exist_ok=True)
        (self.prefix / "conf").mkdir(parents=True, exist_ok=True)
        self.conf_path = self.prefix / "conf" / "nginx.conf"
        for name, value in values.items():  # not str.format: nginx blocks use braces too
            conf_body = conf_body.replace("{%s}" % name, str(value))
        self.conf_path.write_text(conf_body)
        self.extra_args = tuple(extra_args)
        self.wait = wait
        self.proc: subprocess.Popen | None = None

    def command(self, *args: str) -> list:
        return [sys.executable, "-m", "cosocket", "-p", str(self.prefix), "-c", str(self.conf_path), *args]

    def start(self) -> "ServerProcess":
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(self.command("-g", "daemon off;", *self.extra_args),
                                     cwd=str(self.prefix), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if self.wait:
            try:
                wait_port(self.port)
                self.wait_workers()
            except TimeoutError:
                self.stop()
                raise RuntimeError("server did not start:\n" + self.output() + "\n" + self.error_log())
        return self

    def expected_workers(self) -> int:
        """worker_processes of the conf (1 when absent, the CPU count for `auto`)."""
        m = re.search(r"^\s*worker_processes\s+(\w+)\s*;", self.conf_path.read_text(), re.M)
        if m is None:
            return 1
        return (os.cpu_count() or 1) if m.group(1) == "auto" else int(m.group(1))

    def workers(self) -> list:
        """Pids of the master's live worker processes."""
        return children(self.proc.pid)

    def wait_workers(self, count: int | None = None, timeout: float = 10.0) -> list:
        """Wait until `count` (default: the conf's worker_processes) workers run; their pids."""
        count = self.expected_workers() if count is None else count
        deadline = time.monotonic() + timeout
        while True:
            pids = self.workers()
            if len(pids) >= count:
                return pids
            if time.monotonic() > deadline:
                raise TimeoutError("%d of %d workers after %.1fs" % (len(pids), count, timeout))
            time.sleep(0.01)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, sig: int = _signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def output(self) -> str:
        if self.proc is None or self.proc.stdout is None:
            return ""
        if self.proc.poll() is None:
            return ""
        return self.proc.stdout.read().decode("utf-8", "replace")

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, path: str = "/", scheme: str = "ws") -> str:
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
