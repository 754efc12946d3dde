"""Fixtures for the server tests: start the real server with a conf body."""
import pytest

from tests.support.serverproc import ServerProcess

APPS = "{root}/tests/server/apps/?.py;;"

#: The top of every test conf: fast timeouts, logs at info, the test handlers importable.
HEAD = """
error_log logs/error.log info;
pid logs/nginx.pid;
python_path "%s";
events { worker_connections 64; }
""" % APPS


def conf(http_body: str, workers: int = 1, main: str = "") -> str:
    """A complete nginx.conf: HEAD, worker_processes, `main` directives, then http { http_body }."""
    return "worker_processes %d;\n%s%s\nhttp {\n%s\n}\n" % (workers, HEAD, main, http_body)


@pytest.fixture
def start_server(tmp_path):
    """start_server(conf_text, **kw) -> a started ServerProcess, stopped at the end of the test."""
    servers = []

    def start(text, **kw):
        srv = ServerProcess(tmp_path, text, **kw)
        servers.append(srv)
        return srv.start()

    yield start
    for srv in servers:
        srv.stop()
