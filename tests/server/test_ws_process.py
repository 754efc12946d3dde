"""The process model with WebSocket sessions: a killed worker, a reload and a graceful stop
leave the other sessions up, as nginx does."""
import os
import re
import signal
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conformance.wire import RawWS
from tests.server.conftest import conf
from tests.server.test_process import wait_for, worker_pids

HTTP = """
    server {
        listen 127.0.0.1:{port};
        location = /ws { content_by_python wsapp:pid_echo; }
    }
"""


class Session:
    """One WebSocket connection and the pid of the worker serving it."""

    def __init__(self, srv):
        # entered by hand: a session outlives the block that opens it
        self.ws = connect(srv.url("/ws"), open_timeout=3, close_timeout=1, ping_interval=None).__enter__()
        self.pid = int(self.ask("pid"))

    def ask(self, text: str) -> str:
        self.ws.send(text)
        return self.ws.recv(timeout=2)

    def echoes(self) -> bool:
        return self.ask("still there?") == "still there?"

    def is_closed(self) -> bool:
        try:
            self.ws.send("x")
            self.ws.recv(timeout=2)
        except (ConnectionClosed, OSError):
            return True
        return False


def sessions_on_each_worker(srv, per_worker=2, workers=2, attempts=200):
    """Open sessions until every worker serves `per_worker` of them: {pid: [Session]}."""
    by_pid, extra = {}, []
    for _ in range(attempts):
        s = Session(srv)
        group = by_pid.setdefault(s.pid, [])
        (group if len(group) < per_worker else extra).append(s)
        if len(by_pid) == workers and all(len(g) == per_worker for g in by_pid.values()):
            break
    for s in extra:
        s.ws.close()
    assert len(by_pid) == workers and all(len(g) == per_worker for g in by_pid.values()), by_pid
    return by_pid


def close_all(by_pid):
    for group in by_pid.values():
        for s in group:
            s.ws.close()


def test_a_killed_worker_is_replaced_and_the_other_sessions_stay_up(start_server):
    srv = start_server(conf(HTTP, workers=2))
    by_pid = sessions_on_each_worker(srv)
    victim, survivor = sorted(by_pid)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: "worker process %d exited on signal 9" % victim in srv.error_log())
    assert all(s.is_closed() for s in by_pid[victim])
    for _ in range(3):
        assert all(s.echoes() for s in by_pid[survivor])
    wait_for(lambda: len(worker_pids(srv)) == 2 and victim not in worker_pids(srv))
    (replacement,) = set(worker_pids(srv)) - {survivor}
    seen = set()
    deadline = time.monotonic() + 5
    while replacement not in seen and time.monotonic() < deadline:
        s = Session(srv)
        seen.add(s.pid)
        assert s.echoes()
        s.ws.close()
    assert replacement in seen
    assert all(s.echoes() for s in by_pid[survivor])
    close_all(by_pid)


def test_reload_drops_no_session_and_new_sessions_land_on_new_workers(start_server):
    srv = start_server(conf(HTTP, workers=2))
    by_pid = sessions_on_each_worker(srv)
    old = set(by_pid)
    srv.signal(signal.SIGHUP)
    wait_for(lambda: len(set(worker_pids(srv)) - old) == 2)
    assert old <= set(worker_pids(srv))  # the old workers wait for their sessions
    new_pids = set()
    for _ in range(6):
        s = Session(srv)
        new_pids.add(s.pid)
        s.ws.close()
        for group in by_pid.values():
            assert all(x.echoes() for x in group)
    assert new_pids and not new_pids & old
    time.sleep(0.3)
    assert all(x.echoes() for group in by_pid.values() for x in group)
    close_all(by_pid)  # the sessions end: the old workers leave
    wait_for(lambda: not old & set(worker_pids(srv)))
    # the master logs each exit right after reaping it
    wait_for(lambda: all("worker process %d exited with code 0" % pid in srv.error_log() for pid in old))
    assert "[alert]" not in srv.error_log()


def test_quit_tells_sessions_going_away_and_exits_when_they_end(start_server):
    srv = start_server(conf(HTTP, workers=2))
    by_pid = sessions_on_each_worker(srv, per_worker=1)
    t0 = time.monotonic()
    srv.signal(signal.SIGQUIT)
    for group in by_pid.values():
        for s in group:
            with pytest.raises(ConnectionClosed) as closed:
                s.ws.recv(timeout=2)
            assert closed.value.rcvd.code == 1001  # "going away", answered by the client library
    assert srv.proc.wait(5) == 0
    assert time.monotonic() - t0 < 2.0


def test_quit_ends_within_worker_shutdown_timeout_when_sessions_never_answer(start_server):
    srv = start_server(conf(HTTP, workers=2, main="worker_shutdown_timeout 300ms;"))
    silent = [RawWS(srv.port, path="/ws") for _ in range(4)]  # they never answer the close frame
    t0 = time.monotonic()
    srv.signal(signal.SIGQUIT)
    assert srv.proc.wait(5) == 0
    elapsed = time.monotonic() - t0
    assert 0.25 < elapsed < 2.0
    for ws in silent:
        assert ws.read_close()[0] == 1001
        assert ws.eof(1.0)
    assert re.findall(r"closing connection on worker shutdown timeout", srv.error_log())
