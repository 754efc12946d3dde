"""The channels tests' server: two workers, the embedded broker, the handlers of tests/channels/apps."""
import json
import time
import urllib.request

import pytest

from tests.channels.wsclient import Client
from tests.support.serverproc import nginx_conf

APPS = "{root}/tests/channels/apps/?.py;;"

LOCATIONS = """
        location = /room { content_by_python chanapp:room; }
        location = /pub { content_by_python chanapp:pub; }
        location = /sub { content_by_python chanapp:sub; }
        location = /bad { content_by_python chanapp:bad; }
        location = /stats { content_by_python chanapp:stats; }
"""


def channels_conf(channels: str = "channels embedded;", workers: int = 2, extra: str = "") -> str:
    """A complete nginx.conf: `workers` workers, the `channels` directives given, the test locations."""
    body = "    %s\n    %s\n    server {\n        listen 127.0.0.1:{port};\n%s    }\n" % (channels, extra, LOCATIONS)
    return nginx_conf(body, APPS, workers, worker_connections=2048)


def http_get(port: int, path: str, timeout: float = 10.0) -> str:
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as resp:
        return resp.read().decode()


def http_json(port: int, path: str, timeout: float = 10.0):
    return json.loads(http_get(port, path, timeout))


def clients_on_every_worker(port: int, path: str, workers: list, per_worker: int = 1, limit: int = 200,
                            **kw) -> list:
    """Connect clients to `path` until each worker pid of `workers` holds `per_worker` of them; close the rest."""
    by_pid = {pid: [] for pid in workers}
    extra = []
    for _ in range(limit):
        c = Client(port, path, **kw)
        if c.pid in by_pid and len(by_pid[c.pid]) < per_worker:
            by_pid[c.pid].append(c)
        else:
            extra.append(c)
        if all(len(v) == per_worker for v in by_pid.values()):
            break
    for c in extra:
        c.close()
    missing = [pid for pid, v in by_pid.items() if len(v) < per_worker]
    assert not missing, "no connection landed on worker(s) %s in %d tries" % (missing, limit)
    return [c for v in by_pid.values() for c in v]


def broker_pid(srv) -> int:
    """The channels broker's pid, from the master's error log line."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = [int(line.rsplit(" ", 1)[1]) for line in srv.error_log().splitlines()
                if "start channels broker process" in line]
        if pids:
            return pids[-1]
        time.sleep(0.02)
    raise AssertionError("no broker in the error log:\n" + srv.error_log())


def worker_pids(srv, count: int = 2) -> list:
    """The master's worker pids (its children but the broker)."""
    bpid = broker_pid(srv)
    srv.wait_workers(count + 1)
    return [p for p in srv.workers() if p != bpid]


@pytest.fixture
def chan_server(start_server):
    """chan_server(channels_directives="channels embedded;", workers=2, extra="") -> a started server."""
    def start(channels: str = "channels embedded;", workers: int = 2, extra: str = "", **kw):
        return start_server(channels_conf(channels, workers, extra), **kw)
    return start
