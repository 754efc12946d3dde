"""A reload (SIGHUP) under load: old workers keep their WebSocket sessions until they end; no handshake is refused."""
import signal
import time

from tests.reliability.conftest import conf, wait_workers, worker_pids
from tests.reliability.test_process_under_load import HTTP, Handshakes, _progress, _stop, _talkers


def test_reload_under_load_drops_no_session_and_refuses_no_handshake(start_server):
    srv = start_server(conf(HTTP, workers=2))
    old = wait_workers(srv, 2)
    by_pid = _talkers(srv, per_worker=3, workers=2)
    talkers = [t for g in by_pid.values() for t in g]
    handshakes = Handshakes(srv.port)
    handshakes.start()
    time.sleep(0.2)
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while len(set(worker_pids(srv)) - set(old)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(set(worker_pids(srv)) - set(old)) == 2
    assert _progress(talkers, 0.5)  # the old workers keep their sessions going
    _stop(talkers + [handshakes])
    assert all(t.error is None for t in talkers), [t.error for t in talkers]
    assert handshakes.failures == [] and handshakes.ok > 10
    assert "[alert]" not in srv.error_log()


def test_reload_under_load_refuses_no_handshake(start_server):
    srv = start_server(conf(HTTP, workers=2))
    old = wait_workers(srv, 2)
    handshakes = [Handshakes(srv.port) for _ in range(3)]
    for h in handshakes:
        h.start()
    time.sleep(0.2)
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while len(set(worker_pids(srv)) - set(old)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(set(worker_pids(srv)) - set(old)) == 2
    time.sleep(0.3)
    _stop(handshakes)
    assert [h.failures for h in handshakes] == [[], [], []]
    assert all(h.ok > 10 for h in handshakes)
    assert "[alert]" not in srv.error_log()
