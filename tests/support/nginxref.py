"""Debian's nginx with lua-nginx-module, the reference server some tests compare against.

    reason = nginxref.missing(websocket=True)   # None, or which file and Debian package is absent
    nginxref.require(websocket=True)            # the same as a pytest skip
    ref = nginxref.NginxRef(prefix, conf_text, ports=(port, ssl_port))
    ref = nginxref.start_with_tls(prefix, template_path, tls=tls_dir)   # .port and .ssl_port
    ref.error_log(); ref.stop()

The conf runs under a temporary prefix (`-p prefix`, with logs/, conf/ and tmp/
created) in the foreground (`daemon off; master_process off;` belong in the
conf), and the process is stopped by its own pid.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.peerproc import PeerProcess
from tests.support.serverproc import free_port

NGINX_BIN = "/usr/sbin/nginx"
NDK_MODULE = "/usr/lib/nginx/modules/ndk_http_module.so"
LUA_MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so"
LUA_RESTY_CORE = "/usr/share/lua/5.1/resty/core.lua"
LUA_WEBSOCKET = "/usr/share/lua/5.1/nginx/websocket/server.lua"

INSTALL_HINT = "scripts/install-peers.sh (run by ./run-tests) installs it"

_NEEDS = ((NGINX_BIN, "nginx"), (LUA_MODULE, "libnginx-mod-http-lua"), (LUA_RESTY_CORE, "lua-resty-core"))
_NEEDS_WEBSOCKET = ((LUA_WEBSOCKET, "lua-nginx-websocket"),)


def missing(websocket: bool = False) -> str | None:
    """Why the reference cannot run (the missing file and its Debian package), or None.
    `websocket` also asks for lua-resty-websocket as Debian packages it."""
    for path, package in _NEEDS + (_NEEDS_WEBSOCKET if websocket else ()):
        if not os.path.exists(path):
            return "%s is missing (Debian package %s): %s" % (path, package, INSTALL_HINT)
    return None


def require(websocket: bool = False) -> None:
    """Skip the calling test or fixture when the reference cannot run, naming the Debian package."""
    reason = missing(websocket)
    if reason:
        pytest.skip(reason)


def fill(template: str, **values) -> str:
    """`template` with each `{name}` replaced by str(values[name]); other braces are left alone."""
    for name, value in values.items():
        template = template.replace("{%s}" % name, str(value))
    return template


def conf(http_body: str, lua_package_path: str, error_level: str = "info") -> str:
    """A complete single-process nginx.conf loading lua-nginx-module, with temp paths under the prefix:
    `lua_package_path` and then `http_body` (directives and server blocks) in http {}."""
    return ("load_module %s;\nload_module %s;\n"
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid logs/nginx.pid;\n"
            "error_log logs/error.log %s;\nevents { worker_connections 64; }\n"
            "http {\n    access_log off;\n    client_body_temp_path tmp/body;\n    proxy_temp_path tmp/proxy;\n"
            "    fastcgi_temp_path tmp/fastcgi;\n    uwsgi_temp_path tmp/uwsgi;\n    scgi_temp_path tmp/scgi;\n"
            '    lua_package_path "%s";\n%s\n}\n'
            % (NDK_MODULE, LUA_MODULE, error_level, lua_package_path, http_body))


class NginxRef(PeerProcess):
    """nginx running `conf_text` under `prefix`, up once every port in `ports` accepts; its stdout and
    stderr go to logs/nginx.out."""

    def __init__(self, prefix: Path, conf_text: str, ports: tuple):
        self.prefix = prefix
        for d in ("logs", "conf", "tmp"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
        self.conf_path = prefix / "conf" / "nginx.conf"
        self.conf_path.write_text(conf_text)
        argv = [NGINX_BIN, "-p", str(prefix), "-c", str(self.conf_path), "-e", "logs/error.log"]
        super().__init__("nginx", argv, ports[0], prefix / "logs", cwd=prefix, extra_ports=tuple(ports[1:]))

    def error_log(self) -> str:
        """The text of logs/error.log so far ("" before nginx wrote one)."""
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def diagnostics(self) -> str:
        return self.output() + "\n" + self.error_log()


def start_with_tls(prefix: Path, template: Path, **values) -> NginxRef:
    """nginx on the conf file `template`, with free ports filled in for `{port}` and `{ssl_port}` (`.ssl_port`)
    and `values` for the other `{name}`s."""
    port, ssl_port = free_port(), free_port()
    text = fill(template.read_text(), port=port, ssl_port=ssl_port, **values)
    ref = NginxRef(prefix, text, ports=(port, ssl_port))
    ref.ssl_port = ssl_port
    return ref
