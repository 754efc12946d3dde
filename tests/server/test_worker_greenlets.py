"""Connection greenlets are reused: a finished connection's greenlet serves the next one, with fresh context
variables, and a kill meant for an ended connection never reaches the connection its greenlet serves now."""
import contextvars

import gevent
import pytest
from gevent import socket as gsocket

from cosocket import runtime
from cosocket.server import conf, master, worker
from tests.support.serverproc import free_port

SEEN = []
MARK = contextvars.ContextVar("test_worker_greenlets_mark", default=None)

HANDLER = """
from tests.server import test_worker_greenlets as t
from greenlet import getcurrent
t.SEEN.append((getcurrent(), t.MARK.get()))
t.MARK.set("leaked")
from cosocket import ngx
ngx.say("ok")
"""


@pytest.fixture
def srv(tmp_path, monkeypatch):
    for name in ("id", "count", "exiting", "main_conf", "http_settings"):  # the worker state it sets: restored
        monkeypatch.setattr(runtime.worker, name, getattr(runtime.worker, name))
    (tmp_path / "logs").mkdir()
    (tmp_path / "h.py").write_text(HANDLER)
    port = free_port()
    path = tmp_path / "nginx.conf"
    path.write_text("error_log logs/error.log warn;\nevents {}\nhttp {\n access_log off;\n server {\n"
                    "  listen 127.0.0.1:%d;\n  location = /h { content_by_python_file %s; }\n }\n}\n"
                    % (port, tmp_path / "h.py"))
    main_conf = conf.load(str(path), str(tmp_path))
    listeners = master.ListenSet().update(main_conf, 1).listeners_for(main_conf, 0, {})
    w = worker.serve_in_process(main_conf, listeners)
    SEEN.clear()
    yield port, w
    w.stop_accepting()


def _get(port: int) -> bytes:
    s = gsocket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(b"GET /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = b""
    while True:
        data = s.recv(4096)
        if not data:
            break
        out += data
    s.close()
    return out


def test_the_next_connection_reuses_the_greenlet_with_fresh_context(srv):
    port, w = srv
    assert _get(port).endswith(b"ok\n")
    gevent.sleep(0.01)
    assert len(w._spare) == 1
    assert _get(port).endswith(b"ok\n")
    (g1, mark1), (g2, mark2) = SEEN
    assert g1 is g2 and mark1 is None and mark2 is None


def test_a_kill_for_an_ended_connection_spares_the_next(srv):
    port, w = srv
    s = gsocket.create_connection(("127.0.0.1", port), timeout=2)  # connection 1: waits for its head
    gevent.sleep(0.02)
    (conn1,) = w.connections
    g = conn1.greenlet
    s.close()
    gevent.sleep(0.02)
    assert conn1.greenlet is None and w._spare == [g]
    worker._kill(conn1)  # too late: must not reach connection 2, which g serves next
    assert _get(port).endswith(b"ok\n")
    assert SEEN[0][0] is g and not g.dead
