"""The server tests' conf: the handlers of tests/server/apps importable (start_server is in tests/conftest.py)."""
from tests.support.serverproc import nginx_conf

APPS = "{root}/tests/server/apps/?.py;;"


def conf(http_body: str, workers: int = 1, main: str = "") -> str:
    """A complete nginx.conf for these tests: worker_processes, `main` directives, then http { http_body }."""
    return nginx_conf(http_body, APPS, workers, main, worker_connections=64)
