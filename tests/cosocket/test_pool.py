"""cosocket keepalive pools: reuse, LRU eviction, idle timeout, peer close, backlog queue."""
import time

import gevent
import pytest

from cosocket import ngx, pool
from tests.support.netfaults import refused_port
from tests.support.tcpserver import echo, tcp_server


pytestmark = pytest.mark.usefixtures("fresh_pools")


@pytest.fixture
def server():
    """An echo server on 127.0.0.1 that records accepted connections (`srv.conns`)."""
    yield from tcp_server(echo)


def roundtrip(sock, msg=b"ping\n"):
    assert sock.send(msg) == (len(msg), None)
    assert sock.receive() == (msg.rstrip(b"\n"), None, None)


def test_reuse_counts_and_key(server, errlog):
    port = server.server_port
    sock = ngx.socket.tcp()
    assert sock.connect("127.0.0.1", port) == (1, None)
    roundtrip(sock)
    assert sock.setkeepalive() == (1, None)
    assert 'lua tcp socket keepalive create connection pool for key "127.0.0.1:%d"' % port in errlog()
    assert list(pool.pools()) == ["127.0.0.1:%d" % port]
    for method, args in (("send", ("x",)), ("receive", ()), ("close", ()), ("setkeepalive", ()),
                         ("getreusedtimes", ())):
        assert getattr(sock, method)(*args)[:2] == (None, "closed")
    assert sock.connect("127.0.0.1", port) == (1, None)
    assert sock.getreusedtimes() == (1, None)
    roundtrip(sock)
    assert sock.setkeepalive(0) == (1, None)
    again, err = ngx.socket.connect("127.0.0.1", port)
    assert again.getreusedtimes() == (2, None)
    assert len(server.conns) == 1


def test_custom_pool_name_separates_connections(server):
    port = server.server_port
    a = ngx.socket.tcp()
    a.connect("127.0.0.1", port, {"pool": "mine"})
    a.setkeepalive()
    b = ngx.socket.tcp()
    b.connect("127.0.0.1", port)
    assert b.getreusedtimes() == (0, None)
    c = ngx.socket.tcp()
    c.connect("127.0.0.1", port, pool="mine")
    assert c.getreusedtimes() == (1, None)


def test_lru_eviction_closes_least_recently_parked(server):
    port = server.server_port
    socks = []
    for _ in range(3):
        s = ngx.socket.tcp()
        assert s.connect("127.0.0.1", port, pool_size=2) == (1, None)
        socks.append(s)
    fds = [s._sock for s in socks]
    for s in socks:
        assert s.setkeepalive() == (1, None)
    p = pool.get("127.0.0.1:%d" % port)
    assert [e.sock for e in p.idle] == fds[1:]
    assert fds[0].fileno() == -1
    assert p.connections == 2
    # the most recently parked comes back first
    s = ngx.socket.tcp()
    s.connect("127.0.0.1", port)
    assert s._sock is fds[2]


def test_unread_data_refused(server):
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", server.server_port)
    sock.send("a\nb\n")
    assert sock.receive() == (b"a", None, None)
    gevent.sleep(0.02)
    sock.receive(1)  # buffer now holds "\n"
    assert sock.setkeepalive() == (None, "unread data in buffer")
    assert sock.receive() == (b"", None, None)
    assert sock.setkeepalive() == (1, None)


def test_unread_data_in_kernel_is_dubious(server):
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", server.server_port)
    sock.send("hello")
    gevent.sleep(0.05)
    assert sock.setkeepalive() == (None, "connection in dubious state")
    assert sock.close() == (None, "closed")


def test_idle_timeout_removes_connection(server, errlog):
    port = server.server_port
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    raw = sock._sock
    assert sock.setkeepalive(40) == (1, None)
    gevent.sleep(0.1)
    assert raw.fileno() == -1
    assert pool.get("127.0.0.1:%d" % port) is None  # freed with its last connection
    assert "lua tcp socket keepalive max idle timeout" in errlog()


def test_idle_peer_close_detected_at_once(server):
    port = server.server_port
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    roundtrip(sock)
    raw = sock._sock
    sock.setkeepalive(0)
    server.conns[0].close()
    gevent.sleep(0.05)
    assert raw.fileno() == -1
    fresh = ngx.socket.tcp()
    fresh.connect("127.0.0.1", port)
    assert fresh.getreusedtimes() == (0, None)


def test_setkeepalive_after_peer_closed_says_closed(server):
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", server.server_port)
    gevent.sleep(0.02)
    server.conns[0].close()
    gevent.sleep(0.05)
    assert sock.setkeepalive() == (None, "closed")


def test_backlog_queue_overflow_and_wakeup(server):
    port = server.server_port
    first = ngx.socket.tcp()
    assert first.connect("127.0.0.1", port, pool_size=1, backlog=1) == (1, None)
    results = {}

    def waiter():
        s = ngx.socket.tcp()
        s.settimeout(1000)
        results["waiter"] = s.connect("127.0.0.1", port, pool_size=1, backlog=1)
        results["reused"] = s.getreusedtimes()

    g = gevent.spawn(waiter)
    gevent.sleep(0.02)
    third = ngx.socket.tcp()
    assert third.connect("127.0.0.1", port, pool_size=1, backlog=1) == (None, "too many waiting connect operations")
    assert "waiter" not in results
    roundtrip(first)
    assert first.setkeepalive() == (1, None)
    g.join(1)
    assert results["waiter"] == (1, None)
    assert results["reused"] == (1, None)  # it was handed the parked connection


def test_backlog_slot_freed_by_close(server):
    port = server.server_port
    first = ngx.socket.tcp()
    first.connect("127.0.0.1", port, pool_size=1, backlog=2)
    waiter = gevent.spawn(lambda: ngx.socket.connect("127.0.0.1", port, {"pool_size": 1, "backlog": 2}))
    gevent.sleep(0.02)
    first.close()
    sock, err = waiter.get(timeout=1)
    assert err is None and sock.getreusedtimes() == (0, None)
    assert pool.get("127.0.0.1:%d" % port).connections == 1


def test_backlog_queue_timeout(server, errlog):
    port = server.server_port
    first = ngx.socket.tcp()
    first.connect("127.0.0.1", port, pool_size=1, backlog=5)
    second = ngx.socket.tcp()
    second.settimeout(60)
    started = time.monotonic()
    assert second.connect("127.0.0.1", port, pool_size=1, backlog=5) == (None, "timeout")
    assert 0.05 < time.monotonic() - started < 0.5
    assert ("lua tcp socket queued connect timed out, when trying to connect to 127.0.0.1:%d" % port) in errlog()
    p = pool.get("127.0.0.1:%d" % port)
    assert p.connections == 1 and not p.waiters


def test_backlog_zero_rejects_at_once(server):
    port = server.server_port
    a = ngx.socket.tcp()
    a.connect("127.0.0.1", port, backlog=0, pool_size=1)
    b = ngx.socket.tcp()
    assert b.connect("127.0.0.1", port, backlog=0, pool_size=1) == (None, "too many waiting connect operations")


def test_failed_connect_gives_slot_back():
    port = refused_port()
    sock = ngx.socket.tcp()
    assert sock.connect("127.0.0.1", port, pool_size=1, backlog=0) == (None, "connection refused")
    assert pool.get("127.0.0.1:%d" % port) is None


def test_setkeepalive_pool_size_argument(server):
    port = server.server_port
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    with pytest.raises(TypeError):
        sock.setkeepalive(1000, 0)
    assert sock.setkeepalive(1000, 3) == (1, None)
    assert pool.get("127.0.0.1:%d" % port).size == 3


def test_reset_after_fork_forgets_and_closes(server):
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", server.server_port)
    raw = sock._sock
    sock.setkeepalive()
    pool.reset_after_fork()
    assert pool.pools() == {}
    assert raw.fileno() == -1


def test_raw_socket_follows_the_connection_through_the_pool(server):
    # _raw (what websocket.protocol reads and writes frames on) always belongs to the live connection
    port = server.server_port
    sock = ngx.socket.tcp()
    assert sock._raw is None
    assert sock.connect("127.0.0.1", port) == (1, None)
    first = sock._raw
    assert first is sock._sock._sock and first.fileno() >= 0
    assert sock.setkeepalive() == (1, None)
    assert sock._raw is None
    assert sock.connect("127.0.0.1", port) == (1, None)
    assert sock.getreusedtimes() == (1, None) and sock._raw is first
    assert sock.close() == (1, None)
    assert sock._raw is None
