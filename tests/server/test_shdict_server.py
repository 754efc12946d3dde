"""ngx.shared through the real server: one zone for all workers, kept across a reload."""
import signal
import time

from tests.server.conftest import conf
from tests.server.test_process import wait_for, worker_pids
from tests.support.rawhttp import get

HTTP = """
    lua_shared_dict cache %s;
    server {
        listen 127.0.0.1:{port};
        location = /shset { content_by_python srvapp:shared_set; }
        location = /shget { content_by_python srvapp:shared_get; }
        location = /shincr { content_by_python srvapp:shared_incr; }
        location = /pid { content_by_python srvapp:pid; }
    }
"""


def answers_until(port, path, predicate, timeout=5.0):
    """GET `path` on new connections until `predicate(body)` holds; returns that body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = get(port, path).body.decode()
        if predicate(body):
            return body
    raise AssertionError("no answer to %s matched within %.1fs" % (path, timeout))


def test_a_value_set_through_one_worker_is_read_through_the_other(start_server):
    srv = start_server(conf(HTTP % "1m", workers=2, main="init_by_python srvapp:init_shared;"))
    setter = get(srv.port, "/shset?k=color&v=blue").body.decode()
    assert setter.endswith(" true nil\n")
    other = "1" if setter.startswith("0 ") else "0"
    assert answers_until(srv.port, "/shget?k=color", lambda b: b.startswith(other + " ")) == other + " blue\n"
    # written by the master in init_by_python, before the workers were forked: both see it
    for wid in ("0", "1"):
        answers_until(srv.port, "/shget?k=boot", lambda b: b == wid + " from init\n")


def test_one_counter_for_all_workers(start_server):
    srv = start_server(conf(HTTP % "1m", workers=2))
    pids = set()
    for _ in range(40):
        get(srv.port, "/shincr")
        pids.add(get(srv.port, "/pid").body)
    assert len(pids) == 2, "both workers should have served"
    assert get(srv.port, "/shincr").body == b"41\n"


def test_reload_keeps_a_zone_of_the_same_size_and_renews_a_resized_one(start_server):
    srv = start_server(conf(HTTP % "1m", workers=2))
    get(srv.port, "/shset?k=kept&v=yes")
    for size in ("1m", "2m"):
        old = set(worker_pids(srv))
        srv.conf_path.write_text(srv.conf_path.read_text().replace("cache 1m", "cache " + size))
        srv.signal(signal.SIGHUP)
        wait_for(lambda: len(worker_pids(srv)) == 2 and not old & set(worker_pids(srv)))
        value = get(srv.port, "/shget?k=kept").body.split()[1]
        assert value == (b"yes" if size == "1m" else b"nil")


def test_init_by_python_runs_again_on_every_reload(start_server):
    srv = start_server(conf(HTTP % "1m", workers=1, main="init_by_python srvapp:init_count;"))
    assert get(srv.port, "/shget?k=init_runs").body.split()[1] == b"1"
    for runs in (2, 3):
        old = set(worker_pids(srv))
        srv.signal(signal.SIGHUP)
        wait_for(lambda: len(worker_pids(srv)) == 1 and not old & set(worker_pids(srv)))
        assert get(srv.port, "/shget?k=init_runs").body.split()[1] == str(runs).encode()
