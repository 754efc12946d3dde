"""A redis-server the channels tests can stop and start again on the same port (with or without its data)."""
from __future__ import annotations

import subprocess

from tests.support.redisserver import RedisServer
from tests.support.serverproc import free_port


class RedisProc(RedisServer):
    """A RedisServer whose ports are picked once, so that it can be restarted on them; `persistent` keeps
    its data in an append-only file across restarts, `password` sets requirepass.  No unix socket."""

    def __init__(self, workdir, persistent: bool = False, password: str = "", tls_files=None):
        super().__init__(workdir, tls_files=tls_files)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls_files is not None else None
        self.persistent = persistent
        self.password = password

    def _argv(self) -> list:
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

    def _ready(self, reply: bytes) -> bool:
        return reply.startswith((b"+PONG", b"-NOAUTH"))

    def start(self, timeout: float = 10.0) -> "RedisProc":
        """Start (or start again) on the ports picked at creation and wait for PING."""
        self.proc = subprocess.Popen(self._argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self._wait_ready(timeout):
            return self
        raise RuntimeError("redis-server did not start:\n" + self.log())

    def url(self, db: int = 1, scheme: str = "redis") -> str:
        """The redis:// (or rediss://) URL of database `db`, with the password when there is one."""
        auth = ":%s@" % self.password if self.password else ""
        port = self.tls_port if scheme == "rediss" else self.port
        return "%s://%s127.0.0.1:%d/%d" % (scheme, auth, port, db)
