"""Two backends for the differential tests: Debian's nginx with lua-nginx-module, and our server.

Each scenario in scenarios/ is written twice, NAME.lua and NAME.py, with one
expected response body, NAME.out.  Both servers serve every scenario at
/t/NAME through a regex location whose handler path names the file with `$1`,
on 127.0.0.1 and on the unix socket `<prefix>/unix.sock` (`ngx.config.prefix()`).
The nginx backend needs the Debian packages nginx, libnginx-mod-http-lua and
lua-resty-core; when one is missing its half of the tests skips, naming it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import nginxref
from tests.support.serverproc import ServerProcess, free_port, nginx_conf

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"

# Directives both backends take in http{} and server{} (the lua_* names are ours too).
HTTP_EXTRA = "lua_socket_log_errors off;"
SERVER_EXTRA = """
        location = /t/tcp_settimeout_nil {
            lua_socket_read_timeout 50ms;
            content_by_%(lang)s_file %(scenarios)s/tcp_settimeout_nil.%(ext)s;
        }
"""
# The scenario server of both backends, each with its own content_by_* directive and file suffix.
SERVER = """
    server {
        listen 127.0.0.1:%(port)s;
        listen unix:%(prefix)s/unix.sock;
        location ~ ^/t/(\\w+)$ {
            default_type text/plain;
            content_by_%(lang)s_file %(scenarios)s/$1.%(ext)s;
        }
        %(server)s
    }
"""


def server_block(lang: str, ext: str, port, prefix) -> str:
    """The scenario server{} for one backend: content_by_`lang`_file on scenarios/*.`ext`."""
    extra = SERVER_EXTRA % {"lang": lang, "ext": ext, "scenarios": SCENARIOS}
    return SERVER % {"port": port, "prefix": prefix, "lang": lang, "ext": ext, "scenarios": SCENARIOS,
                     "server": extra}


class NginxBackend:
    """Debian's nginx + lua-nginx-module serving scenarios/*.lua."""

    name = "nginx"

    def __init__(self, prefix: Path):
        self.port = free_port()
        body = "    %s\n%s" % (HTTP_EXTRA, server_block("lua", "lua", self.port, prefix))
        self.ref = nginxref.NginxRef(prefix, nginxref.conf(body, "/usr/share/lua/5.1/?.lua;;"), ports=(self.port,))

    def error_log(self) -> str:
        return self.ref.error_log()

    def stop(self) -> None:
        self.ref.stop()


class PythonBackend:
    """Our server serving scenarios/*.py."""

    name = "python"

    def __init__(self, prefix: Path):
        body = "    %s\n%s" % (HTTP_EXTRA, server_block("python", "py", "{port}", "{prefix}"))
        self.server = ServerProcess(prefix, nginx_conf(body, "{root}/tests/differential/?.py;;"))
        self.server.start()
        self.port = self.server.port

    def error_log(self) -> str:
        return self.server.error_log()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="session")
def nginx_backend(tmp_path_factory):
    nginxref.require()
    backend = NginxBackend(tmp_path_factory.mktemp("nginx-ref"))
    yield backend
    backend.stop()


@pytest.fixture(scope="session")
def python_backend(tmp_path_factory):
    backend = PythonBackend(tmp_path_factory.mktemp("python-port"))
    yield backend
    backend.stop()
