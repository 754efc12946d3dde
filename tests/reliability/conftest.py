"""Fixtures for the reliability tests: the real server with the handlers of tests/reliability/apps."""
import os

import pytest

from tests.support.serverproc import ServerProcess

APPS = "{root}/tests/reliability/apps/?.py;{root}/conf/handlers/?.py;;"

#: Top of every conf here: logs at info (nginx logs client faults at info), small limits.
HEAD = """
error_log logs/error.log info;
pid logs/nginx.pid;
python_path "%s";
events { worker_connections 256; }
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


def worker_pids(srv):
    """Pids of the master's live (non-zombie) children."""
    return srv.workers()


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def fd_count(pid: int) -> int:
    """Open file descriptors of a process."""
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_workers(srv, count: int, timeout: float = 5.0, exclude=()) -> list:
    """Wait until the master has `count` live workers (none of `exclude`); their pids."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        pids = worker_pids(srv)
        if len(pids) == count and not set(pids) & set(exclude):
            return pids
        if time.monotonic() > deadline:
            raise AssertionError("workers %s, wanted %d (not %s)" % (pids, count, list(exclude)))
        time.sleep(0.02)
