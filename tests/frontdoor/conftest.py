"""Fixtures of the front-door tests: Debian's nginx with lua-nginx-module and this server, both serving the
same echo handler (nginx.conf, ours.conf) on a plain and a TLS port, started once per test session."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.serverproc import ROOT, ServerProcess, free_port, wait_port

HERE = Path(__file__).resolve().parent
NGINX_BIN = "/usr/sbin/nginx"
NGINX_LUA_MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so"
LUA_RESTY_CORE = "/usr/share/lua/5.1/resty/core.lua"
#: client_max_body_size of both servers.
MAX_BODY = 4096


def missing_nginx_lua():
    for path, package in ((NGINX_BIN, "nginx"), (NGINX_LUA_MODULE, "libnginx-mod-http-lua"),
                          (LUA_RESTY_CORE, "lua-resty-core")):
        if not os.path.exists(path):
            return "%s is missing (Debian package %s): scripts/install-peers.sh installs it" % (path, package)
    return None


class Nginx:
    """Debian's nginx in the foreground with the conf in nginx.conf; stopped by its own pid."""

    def __init__(self, prefix: Path, tls: Path):
        self.port, self.ssl_port = free_port(), free_port()
        for d in ("logs", "conf", "tmp"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
        text = (HERE / "nginx.conf").read_text()
        for name, value in (("port", self.port), ("ssl_port", self.ssl_port), ("tls", tls), ("max_body", MAX_BODY)):
            text = text.replace("{%s}" % name, str(value))
        conf = prefix / "conf" / "nginx.conf"
        conf.write_text(text)
        self.prefix = prefix
        self.out = open(prefix / "logs" / "stdout", "wb")
        self.proc = subprocess.Popen([NGINX_BIN, "-p", str(prefix), "-c", str(conf), "-e", "logs/error.log"],
                                     cwd=str(prefix), stdout=self.out, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port)
            wait_port(self.ssl_port)
        except TimeoutError:
            self.stop()
            raise RuntimeError("nginx did not start: " + self.error_log())

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


@pytest.fixture(scope="session")
def nginx(tmp_path_factory, tls_files):
    reason = missing_nginx_lua()
    if reason:
        pytest.skip(reason)
    peer = Nginx(tmp_path_factory.mktemp("nginx"), tls_files)
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def ours(tmp_path_factory, tls_files):
    ssl_port = free_port()
    srv = ServerProcess(tmp_path_factory.mktemp("ours"), (HERE / "ours.conf").read_text(),
                        fmt={"ssl_port": ssl_port, "tls": tls_files, "max_body": MAX_BODY})
    srv.ssl_port = ssl_port
    srv.start()
    yield srv
    srv.stop()
    # whatever the front-door tests sent, no connection ended in an error of the server itself
    log = srv.error_log()
    assert "unexpected error" not in log and "Traceback" not in log, log[-3000:]


@pytest.fixture(params=["nginx", "ours"])
def server(request):
    """Each case runs against both servers."""
    return request.getfixturevalue(request.param)
