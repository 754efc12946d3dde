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
            except TimeoutError:
                self.stop()
                raise RuntimeError("server did not start:\n" + self.output() + "\n" + self.error_log())
        return self

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
