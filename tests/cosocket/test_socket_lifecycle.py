"""What gives a cosocket's pool slot back, and the busy rules around connect (lua-nginx-module's)."""
import gc
import socket

import gevent
import gevent.event
import pytest

from cosocket import ngx, pool, runtime
from cosocket.concurrency import run_entry
from cosocket.confmodel import HttpSettings, ResolverConf
from tests.cosocket.fakes import FakeRequest
from tests.support.tcpserver import hold, tcp_server

pytestmark = pytest.mark.usefixtures("fresh_pools")


@pytest.fixture
def server():
    """A server on 127.0.0.1 that keeps every connection open until the test ends."""
    yield from tcp_server(hold)


@pytest.fixture
def silent_resolver():
    """A `resolver` that never answers: connect by name waits in resolution (up to 2 s)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    saved = runtime.worker.http_settings
    runtime.worker.http_settings = HttpSettings()
    settings = runtime.worker.http_settings.socket
    settings.resolver = ResolverConf(servers=[("127.0.0.1", udp.getsockname()[1])])
    settings.resolver_timeout = 2000
    yield settings
    runtime.worker.http_settings = saved
    udp.close()


def key(srv):
    return "127.0.0.1:%d" % srv.server_port


def test_killed_queued_connect_leaves_the_backlog(server):
    port = server.server_port
    out = []

    def entry():
        first = ngx.socket.tcp()
        assert first.connect("127.0.0.1", port, pool_size=1, backlog=1) == (1, None)
        queued = ngx.thread.spawn(lambda: ngx.socket.tcp().connect("127.0.0.1", port, pool_size=1, backlog=1))
        assert len(pool.get(key(server)).waiters) == 1
        assert ngx.thread.kill(queued) == (1, None)
        assert not pool.get(key(server)).waiters
        # the place is free again: a new connect queues instead of being refused
        again = ngx.thread.spawn(lambda: ngx.socket.tcp().connect("127.0.0.1", port, pool_size=1, backlog=1))
        first.close()
        out.append(ngx.thread.wait(again))

    run_entry(FakeRequest(), entry)
    assert out == [(True, 1, None)]


def test_connect_killed_while_resolving_gives_the_slot_back(server, silent_resolver):
    def entry():
        t = ngx.thread.spawn(lambda: ngx.socket.tcp().connect("localhost.invalid", 80, pool="p", pool_size=1))
        assert pool.get("p").connections == 1
        assert ngx.thread.kill(t) == (1, None)

    run_entry(FakeRequest(), entry)
    assert pool.get("p") is None  # no connection left: the pool is freed


def test_close_and_io_while_connecting_are_busy(silent_resolver):
    sock = ngx.socket.tcp()
    g = gevent.spawn(sock.connect, "localhost.invalid", 80)
    gevent.sleep(0.01)
    assert sock.close() == (None, "socket busy connecting")
    assert sock.connect("127.0.0.1", 80) == (None, "socket busy connecting")
    assert sock.send("x") == (None, "socket busy connecting")
    assert sock.receive() == (None, "socket busy connecting", None)
    assert sock.receiveany(1) == (None, "socket busy connecting")
    assert sock.receiveuntil("x")() == (None, "socket busy connecting", None)
    assert sock.setkeepalive() == (None, "socket busy connecting")
    g.kill()
    assert sock.close() == (None, "closed")


def test_socket_collected_without_close_gives_the_slot_back(server):
    sock = ngx.socket.tcp()
    assert sock.connect("127.0.0.1", server.server_port, pool_size=1, backlog=0) == (1, None)
    other = ngx.socket.tcp()
    assert other.connect("127.0.0.1", server.server_port, pool_size=1, backlog=0) \
        == (None, "too many waiting connect operations")
    del sock
    gc.collect()
    assert other.connect("127.0.0.1", server.server_port, pool_size=1, backlog=0) == (1, None)
    other.close()


def test_request_end_closes_its_sockets_and_frees_their_slots(server):
    kept = []

    def entry():
        sock = ngx.socket.tcp()
        assert sock.connect("127.0.0.1", server.server_port, pool_size=1, backlog=0) == (1, None)
        kept.append(sock)  # still referenced after the request: only the request's end closes it

    run_entry(FakeRequest(), entry)
    assert kept[0].close() == (None, "closed")
    assert pool.get(key(server)) is None
    other = ngx.socket.tcp()
    assert other.connect("127.0.0.1", server.server_port, pool_size=1, backlog=0) == (1, None)
    other.close()


def test_busy_writer_and_close_while_reading(server):
    sock = ngx.socket.tcp()
    sock.settimeout(200)
    assert sock.connect("127.0.0.1", server.server_port) == (1, None)
    reader = gevent.spawn(sock.receive)
    gevent.sleep(0.01)
    assert sock.close() == (None, "socket busy reading")
    assert sock.send("full duplex") == (11, None)
    assert reader.get() == (None, "timeout", b"")
    assert sock.close() == (1, None)


def test_failed_send_closes_the_write_side_only():
    a, b = socket.socketpair()
    from cosocket.tcp import TCPSocket
    sock = TCPSocket.from_accepted(a, "unix")
    b.sendall(b"still readable\n")
    b.shutdown(socket.SHUT_RD)
    b_closed = False
    for _ in range(50):  # the peer no longer reads: sends fail once the kernel says so
        sent, err = sock.send(b"x" * 65536)
        if sent is None:
            b_closed = True
            break
    assert b_closed and err == "broken pipe"
    assert sock.send("again") == (None, "closed")
    assert sock.receive() == (b"still readable", None, None)
    b.close()


def test_timer_end_closes_its_sockets_and_frees_their_slots(server):
    kept = []
    done = gevent.event.Event()

    def callback(premature):
        sock = ngx.socket.tcp()
        kept.append(sock.connect("127.0.0.1", server.server_port, pool_size=1, backlog=0))
        kept.append(sock)
        done.set()

    assert ngx.timer.at(0, callback) == (1, None)
    assert done.wait(2)
    gevent.sleep(0.01)  # the callback's run has ended
    assert kept[0] == (1, None)
    assert kept[1].close() == (None, "closed")
    assert pool.get(key(server)) is None
