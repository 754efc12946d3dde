"""A real redis-server for tests, on a free loopback port and a unix socket.

    from tests.support.redisserver import redis_server   # in a conftest or test module

    def test_x(redis_server):
        redis_server.port        # TCP port on 127.0.0.1
        redis_server.unix_path   # path of its unix socket
        redis_server.tls_port    # TLS port (None when started without certificates)

The `redis_server` fixture starts one server per test session (no persistence:
`--save "" --appendonly no`) and stops it at the end; a test using it skips,
naming the Debian package, when redis-server is not installed.
`RedisServer(...)` can also be started by hand (`with RedisServer(dir) as srv:`).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

from tests.support.serverproc import free_port

BINARY_CANDIDATES = ("/usr/bin/redis-server", "redis-server")


def find_binary() -> Optional[str]:
    """The redis-server executable, or None."""
    for candidate in BINARY_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def require_binary() -> str:
    """The redis-server executable; skips the test when the Debian package is missing."""
    path = find_binary()
    if path is None:
        pytest.skip("redis-server not found (Debian package: redis-server)")
    return path


class RedisServer:
    """One redis-server process listening on 127.0.0.1:port and a unix socket (and TLS if given files)."""

    def __init__(self, workdir, binary: Optional[str] = None, tls_files=None) -> None:
        self.dir = Path(workdir)
        self.binary = binary or require_binary()
        self.tls_files = Path(tls_files) if tls_files is not None else None
        self.port = 0
        self.tls_port: Optional[int] = None
        self.unix_path = str(self.dir / "redis.sock")
        self.proc: Optional[subprocess.Popen] = None

    def _argv(self) -> list:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"),
                "--unixsocket", self.unix_path, "--unixsocketperm", "700"]
        if self.tls_files is not None:
            argv += ["--tls-port", str(self.tls_port),
                     "--tls-cert-file", str(self.tls_files / "server.pem"),
                     "--tls-key-file", str(self.tls_files / "server.key"),
                     "--tls-ca-cert-file", str(self.tls_files / "ca.pem"),
                     "--tls-auth-clients", "no"]
        return argv

    def start(self, timeout: float = 10.0) -> "RedisServer":
        """Start the server (a few attempts if a picked port was taken meanwhile) and wait for PING."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            self.port = free_port()
            if self.tls_files is not None:
                self.tls_port = free_port()
            self.proc = subprocess.Popen(self._argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError("redis-server did not start:\n" + self.log())

    def _ready(self, reply: bytes) -> bool:
        """Whether the reply to PING (and the unix socket being there) says the server is up."""
        return reply.startswith(b"+PONG") and os.path.exists(self.unix_path)

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if self._ready(s.recv(64)):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def command(self, *args) -> bytes:
        """Send one command with a plain blocking socket and return the raw reply bytes (for checks)."""
        payload = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (x if isinstance(x, bytes) else str(x).encode() for x in args))
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(payload)
            return s.recv(65536)

    def log(self) -> str:
        """The server's log so far."""
        try:
            return (self.dir / "redis.log").read_text()
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> "RedisServer":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory, tls_files):
    """A redis-server for the whole session (TCP, unix socket and TLS), stopped at the end."""
    binary = require_binary()
    srv = RedisServer(tmp_path_factory.mktemp("redis"), binary, tls_files=tls_files)
    try:
        srv.start()
    except RuntimeError:
        if "TLS" not in srv.log() and "tls" not in srv.log():
            raise
        srv = RedisServer(tmp_path_factory.mktemp("redis"), binary).start()  # built without TLS
    yield srv
    srv.stop()
