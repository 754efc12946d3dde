"""Fixtures for the reliability tests: the real server with the handlers of tests/reliability/apps."""
import os

from tests.support.serverproc import nginx_conf

APPS = "{root}/tests/reliability/apps/?.py;{root}/conf/handlers/?.py;;"


def conf(http_body: str, workers: int = 1, main: str = "") -> str:
    """A complete nginx.conf (logs at info: nginx logs client faults at info; start_server is in tests/conftest.py)."""
    return nginx_conf(http_body, APPS, workers, main, worker_connections=256)


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
