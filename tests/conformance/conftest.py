"""The real server for the conformance tests: the shipped /echo and a configurable echo at /strict and
/deflate (the same app; permessage-deflate is on by default at /deflate)."""
import pytest

from tests.support.serverproc import ServerProcess

CONF = """
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    lua_socket_log_errors off;
    server {
        listen 127.0.0.1:{port};
        location = /echo { content_by_python_file {root}/conf/handlers/echo.py; }
        location = /strict { content_by_python_file {root}/tests/conformance/apps/strict_echo.py; }
        location = /deflate { content_by_python_file {root}/tests/conformance/apps/strict_echo.py; }
    }
}
"""


@pytest.fixture(scope="session")
def ws_server(tmp_path_factory):
    """One server process for the whole directory (the handlers keep no state between connections)."""
    with ServerProcess(tmp_path_factory.mktemp("conformance"), CONF) as srv:
        yield srv
