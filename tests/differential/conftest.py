"""Two backends for the differential tests: Debian's nginx with lua-nginx-module, and our server.

Each scenario in scenarios/ is written twice, NAME.lua and NAME.py, with one
expected response body, NAME.out.  Both servers serve every scenario at
/t/NAME through a regex location whose handler path names the file with `$1`,
on 127.0.0.1 and on the unix socket `<prefix>/unix.sock` (`ngx.config.prefix()`).
The nginx backend needs the Debian packages nginx, libnginx-mod-http-lua and
lua-resty-core; when one is missing its half of the tests skips, naming it.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.serverproc import ServerProcess, free_port, nginx_conf, wait_port

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"

NGINX_BIN = "/usr/sbin/nginx"
NDK_MODULE = "/usr/lib/nginx/modules/ndk_http_module.so"
LUA_MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so"
LUA_RESTY_CORE = "/usr/share/lua/5.1/resty/core.lua"

NGINX_CONF = """
load_module %(ndk)s;
load_module %(lua)s;
daemon off;
master_process off;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
    %(http)s
    server {
        listen 127.0.0.1:%(port)d;
        listen unix:%(prefix)s/unix.sock;
        location ~ ^/t/(\\w+)$ {
            default_type text/plain;
            content_by_lua_file %(scenarios)s/$1.lua;
        }
        %(server)s
    }
}
"""

# Directives both backends take in http{} and server{} (the lua_* names are ours too).
HTTP_EXTRA = "lua_socket_log_errors off;"
SERVER_EXTRA = """
        location = /t/tcp_settimeout_nil {
            lua_socket_read_timeout 50ms;
            content_by_%(lang)s_file %(scenarios)s/tcp_settimeout_nil.%(ext)s;
        }
"""


def missing_nginx() -> str | None:
    """Why the nginx reference cannot run, or None."""
    for path, package in ((NGINX_BIN, "nginx"), (LUA_MODULE, "libnginx-mod-http-lua"),
                          (LUA_RESTY_CORE, "lua-resty-core")):
        if not os.path.exists(path):
            return "%s is missing (Debian package %s)" % (path, package)
    return None


class NginxBackend:
    """Debian's nginx + lua-nginx-module serving scenarios/*.lua."""

    name = "nginx"

    def __init__(self, prefix: Path):
        self.prefix = prefix
        self.port = free_port()
        for d in ("logs", "conf", "tmp"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
        text = NGINX_CONF % {"ndk": NDK_MODULE, "lua": LUA_MODULE, "port": self.port, "prefix": prefix,
                             "scenarios": SCENARIOS, "http": HTTP_EXTRA,
                             "server": SERVER_EXTRA % {"lang": "lua", "ext": "lua", "scenarios": SCENARIOS}}
        conf = prefix / "conf" / "nginx.conf"
        conf.write_text(text)
        self.out = open(prefix / "logs" / "stdout", "wb")
        self.proc = subprocess.Popen([NGINX_BIN, "-p", str(prefix), "-c", str(conf), "-e", "logs/error.log"],
                                     cwd=str(prefix), stdout=self.out, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError("nginx did not start:\n" + self.error_log())

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


class PythonBackend:
    """Our server serving scenarios/*.py."""

    name = "python"

    def __init__(self, prefix: Path):
        body = """
    %s
    server {
        listen 127.0.0.1:{port};
        listen unix:{prefix}/unix.sock;
        location ~ ^/t/(\\w+)$ {
            default_type text/plain;
            content_by_python_file %s/$1.py;
        }
        %s
    }
""" % (HTTP_EXTRA, SCENARIOS, SERVER_EXTRA % {"lang": "python", "ext": "py", "scenarios": SCENARIOS})
        self.server = ServerProcess(prefix, nginx_conf(body, "{root}/tests/differential/?.py;;"))
        self.server.start()
        self.port = self.server.port

    def error_log(self) -> str:
        return self.server.error_log()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="session")
def nginx_backend(tmp_path_factory):
    reason = missing_nginx()
    if reason:
        pytest.skip(reason)
    backend = NginxBackend(tmp_path_factory.mktemp("nginx-ref"))
    yield backend
    backend.stop()


@pytest.fixture(scope="session")
def python_backend(tmp_path_factory):
    backend = PythonBackend(tmp_path_factory.mktemp("python-port"))
    yield backend
    backend.stop()
