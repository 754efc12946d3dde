"""A redis-server the channels tests can stop and start again on the same port (with or without its data)."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.support.redisserver import require_binary
from tests.support.serverproc import free_port


class RedisProc:
    def __init__(self, workdir, persistent: bool = False, password: str = "", tls_files=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.binary = require_binary()
        self.port = free_port()
        self.tls_port = free_port() if tls_files is not None else None
        self.tls_files = tls_files
        self.persistent = persistent
        self.password = password
        self.proc = None

    def argv(self) -> list:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "", "--appendonly", "yes" if self.persistent else "no",
                "--appendfsync", "always", "--logfile", str(self.dir / "redis.log")]
        if self.password:
            argv += ["--requirepass", self.password]
        if self.tls_files is not None:
            argv += ["--tls-port", str(self.tls_port), "--tls-cert-file", str(self.tls_files / "server.pem"),
                     "--tls-key-file", str(self.tls_files / "server.key"),
                     "--tls-ca-cert-file", str(self.tls_files / "ca.pem"), "--tls-auth-clients", "no"]
        return argv

    def start(self, timeout: float = 10.0) -> "RedisProc":
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    reply = s.recv(64)
                    if reply.startswith((b"+PONG", b"-NOAUTH")):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start:\n" + (self.dir / "redis.log").read_text(errors="replace"))

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def url(self, db: int = 1, scheme: str = "redis") -> str:
        auth = ":%s@" % self.password if self.password else ""
        port = self.tls_port if scheme == "rediss" else self.port
        return "%s://%s127.0.0.1:%d/%d" % (scheme, auth, port, db)
