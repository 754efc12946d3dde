"""cosocket.deadlines: the worker's one read-deadline timer (exact timeouts, no entry per wait, no leaks)."""
import time

import gevent
import pytest
from gevent.server import StreamServer

from cosocket import deadlines, tcp


@pytest.fixture
def quiet_port():
    """A server on 127.0.0.1 that accepts and sends nothing until told; yields (port, sent list of conns)."""
    conns = []

    def handler(s, addr):
        conns.append(s)
        gevent.sleep(2)

    srv = StreamServer(("127.0.0.1", 0), handler)
    srv.start()
    yield srv.server_port, conns
    srv.stop(timeout=0.1)


def _connected(port):
    sock = tcp.tcp()
    assert sock.connect("127.0.0.1", port) == (1, None)
    return sock


def test_shorter_timeout_after_a_longer_one_fires_on_time(quiet_port):
    port, _ = quiet_port
    sock = _connected(port)
    sock.settimeout(400)
    g = gevent.spawn(sock.receive, 1)
    gevent.sleep(0.02)
    g.kill()  # leaves a 400 ms entry registered for this socket
    sock.settimeout(40)
    start = time.monotonic()
    assert sock.receive(1) == (None, "timeout", b"")
    assert time.monotonic() - start < 0.2


def test_many_sockets_time_out_each_at_its_own_deadline(quiet_port):
    port, _ = quiet_port
    socks = [_connected(port) for _ in range(3)]
    for sock, ms in zip(socks, (90, 30, 60)):
        sock.settimeout(ms)
    start = time.monotonic()
    done = {}

    def read(i):
        assert socks[i].receive(1) == (None, "timeout", b"")
        done[i] = time.monotonic() - start

    gevent.joinall([gevent.spawn(read, i) for i in range(3)], timeout=2)
    assert sorted(done, key=done.get) == [1, 2, 0]
    assert done[0] < 0.5


def test_busy_socket_registers_once_and_data_before_deadline_wins(quiet_port):
    port, conns = quiet_port
    sock = _connected(port)
    sock.settimeout(1000)
    gevent.sleep(0.01)
    entries = []
    for i in range(5):
        gevent.spawn_later(0.01, conns[0].sendall, b"x")
        assert sock.receive(1) == (b"x", None, None)
        entries.append(sock._tentry)
    assert entries[0] is not None and all(e is entries[0] for e in entries)


def test_closing_forgets_the_entry(quiet_port):
    port, _ = quiet_port
    sock = _connected(port)
    sock.settimeout(30)
    assert sock.receive(1) == (None, "timeout", b"")
    sock.settimeout(5000)
    g = gevent.spawn(sock.receive, 1)
    gevent.sleep(0.01)
    g.kill()
    entry = sock._tentry
    assert entry is not None and entry[2] is sock
    sock.close()
    assert sock._tentry is None and entry[2] is None


def test_hard_deadline_cuts_a_trickling_read(quiet_port):
    port, conns = quiet_port
    sock = _connected(port)
    sock.settimeout(200)  # each wait alone would allow 200 ms, and a byte comes every 30 ms

    def trickle():
        for _ in range(20):
            gevent.sleep(0.03)
            conns[0].sendall(b"x")

    gevent.sleep(0.01)
    g = gevent.spawn(trickle)
    sock.set_read_deadline(deadlines.loop_now() + 0.1)
    start = time.monotonic()
    try:
        data, err = sock.read_until(b"\r\n\r\n", 1000)
    finally:
        sock.set_read_deadline(None)
    g.kill()
    assert (data, err) == (None, "timeout")
    assert 0.08 < time.monotonic() - start < 0.18
