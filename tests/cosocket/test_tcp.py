"""cosocket TCPSocket: connect, send, receive, timeouts and error paths on loopback sockets."""
import os
import socket
import time

import gevent
import pytest
from gevent.server import StreamServer

from cosocket import ngx, runtime, tcp
from cosocket.confmodel import HttpSettings
from tests.support.netfaults import full_backlog, refused_port


@pytest.fixture
def serve():
    """serve(handler) -> port of an in-process StreamServer on 127.0.0.1."""
    servers = []

    def start(handler):
        srv = StreamServer(("127.0.0.1", 0), handler)
        srv.start()
        servers.append(srv)
        return srv.server_port

    yield start
    for srv in servers:
        srv.stop(timeout=0.1)


@pytest.fixture
def settings():
    """The worker's socket settings, restored afterwards."""
    saved = runtime.worker.http_settings
    runtime.worker.http_settings = HttpSettings()
    yield runtime.worker.http_settings.socket
    runtime.worker.http_settings = saved


def sender(payload, then_close=True, pause=0.0):
    def handler(s, addr):
        if pause:
            gevent.sleep(pause)
        s.sendall(payload)
        if then_close:
            s.close()
        else:
            gevent.sleep(1)
    return handler


def test_connect_send_receive_echo(serve):
    def echo(s, addr):
        while True:
            data = s.recv(100)
            if not data:
                return
            s.sendall(data)

    port = serve(echo)
    sock = ngx.socket.tcp()
    assert sock.connect("127.0.0.1", port) == (1, None)
    assert sock.send(["ab", b"c", 1, 2.5, ["x", ("y",)]]) == (9, None)
    assert sock.receive(9) == (b"abc12.5xy", None, None)
    assert sock.close() == (1, None)


def test_send_coalesces_and_counts_bytes(serve):
    got = []

    def rec(s, addr):
        got.append(s.recv(100))

    port = serve(rec)
    sock, err = tcp.connect("127.0.0.1", port)
    assert err is None
    assert sock.send(["ab", b"c", 1, 2.5, ["x", ("y",)]]) == (9, None)
    gevent.sleep(0.05)
    assert got == [b"abc12.5xy"]
    assert sock.send("") == (0, None)
    with pytest.raises(TypeError):
        sock.send(None)
    with pytest.raises(TypeError):
        sock.send([True])


def test_receive_line_strips_every_cr_and_lf(serve):
    port = serve(sender(b"one\r\ntw\ro\nthree\n\nlast"))
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    assert sock.receive() == (b"one", None, None)
    assert sock.receive("*l") == (b"two", None, None)
    assert sock.receive("*l") == (b"three", None, None)
    assert sock.receive() == (b"", None, None)
    assert sock.receive() == (None, "closed", b"last")
    assert sock.receive() == (None, "closed", None)


def test_receive_all_returns_data_at_close_without_error(serve):
    port = serve(sender(b"x" * 100000))
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    assert sock.receive(3) == (b"xxx", None, None)
    data, err, partial = sock.receive("*a")
    assert (len(data), err, partial) == (99997, None, None)
    # the end of the stream is no error: "*a" again answers "", a sized read fails and closes the read side
    assert sock.receive("*a") == (b"", None, None)
    assert sock.receive(1) == (None, "closed", b"")
    assert sock.receive("*a") == (None, "closed", None)
    assert sock.close() == (1, None)


def test_receive_exact_small_and_large(serve):
    blob = os.urandom(300000)
    port = serve(sender(blob))
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    assert sock.receive(0) == (b"", None, None)
    assert sock.receive(2) == (blob[:2], None, None)
    assert sock.receive(5000) == (blob[2:5002], None, None)
    assert sock.receive(200000) == (blob[5002:205002], None, None)
    data, err, partial = sock.receive(200000)
    assert data is None and err == "closed" and partial == blob[205002:]


def test_receive_bad_arguments_raise(serve):
    port = serve(sender(b"", then_close=False))
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    with pytest.raises(TypeError):
        sock.receive(-1)
    with pytest.raises(TypeError):
        sock.receive("*z")
    with pytest.raises(TypeError):
        sock.receive({})
    sock.settimeout(30)
    assert sock.receive("3") == (None, "timeout", b"")


def test_read_timeout_keeps_connection_usable_and_returns_partial(serve, errlog):
    def slow(s, addr):
        s.sendall(b"abc")
        gevent.sleep(0.15)
        s.sendall(b"defgh\n")
        gevent.sleep(0.5)

    port = serve(slow)
    sock = ngx.socket.tcp()
    sock.settimeout(50)
    assert sock.connect("127.0.0.1", port) == (1, None)
    assert sock.receive(5) == (None, "timeout", b"abc")
    assert "lua tcp socket read timed out" in errlog()
    sock.settimeout(500)
    assert sock.receive() == (b"defgh", None, None)
    sock.settimeouts(0, 0, 30)
    assert sock.receive("*l") == (None, "timeout", b"")
    assert sock.close() == (1, None)
    assert sock.close() == (None, "closed")


def test_read_timeout_is_per_wait_not_total(serve):
    def trickle(s, addr):
        for _ in range(6):
            s.sendall(b"x")
            gevent.sleep(0.03)
        s.sendall(b"\n")
        gevent.sleep(0.2)

    port = serve(trickle)
    sock = ngx.socket.tcp()
    sock.settimeouts(1000, 1000, 100)  # each wait < 100 ms, the whole line ~180 ms
    sock.connect("127.0.0.1", port)
    started = time.monotonic()
    assert sock.receive() == (b"xxxxxx", None, None)
    assert time.monotonic() - started > 0.1


def test_receive_timeout_partial_for_receiveany_and_all(serve):
    port = serve(sender(b"12345", then_close=False))
    sock = ngx.socket.tcp()
    sock.settimeout(60)
    sock.connect("127.0.0.1", port)
    assert sock.receiveany(3) == (b"123", None)
    assert sock.receiveany(10) == (b"45", None)
    assert sock.receiveany(10) == (None, "timeout")
    assert sock.receive("*a") == (None, "timeout", b"")
    with pytest.raises(TypeError):
        sock.receiveany(0)


def test_receiveany_closed(serve):
    port = serve(sender(b""))
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    assert sock.receiveany(10) == (None, "closed")
    assert sock.receiveany(10) == (None, "closed")
    # only the read side closed: sends still go out, close() closes the connection
    assert sock.send("x") == (1, None)
    assert sock.close() == (1, None)
    assert sock.close() == (None, "closed")


def test_connect_refused_logged_and_returned(errlog):
    port = refused_port()
    sock = ngx.socket.tcp()
    assert sock.connect("127.0.0.1", port) == (None, "connection refused")
    assert "connect() failed (111: Connection refused), when connecting to 127.0.0.1:%d" % port in errlog()


def test_log_errors_off_silences_socket_errors(errlog, settings):
    settings.log_errors = False
    port = refused_port()
    assert ngx.socket.tcp().connect("127.0.0.1", port) == (None, "connection refused")
    assert "connect() failed" not in errlog()


def test_connect_timeout_on_full_backlog(errlog):
    with full_backlog() as port:
        sock = ngx.socket.tcp()
        sock.settimeouts(80, 1000, 1000)
        started = time.monotonic()
        assert sock.connect("127.0.0.1", port) == (None, "timeout")
        assert 0.07 < time.monotonic() - started < 1.0
        assert "lua tcp socket connect timed out, when connecting to 127.0.0.1:%d" % port in errlog()


def test_connect_timeout_default_from_settings(settings):
    settings.connect_timeout = 70
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", 9)  # applies the settings; refused or not, values are loaded
    assert sock._ct == pytest.approx(0.07)
    assert sock._rt == pytest.approx(60.0)


def test_connect_arguments():
    sock = ngx.socket.tcp()
    assert sock.connect("127.0.0.1") == (None, "missing the port number")
    assert sock.connect("127.0.0.1", 65536) == (None, "bad port number: 65536")
    with pytest.raises(TypeError, match="bogus"):
        sock.connect("127.0.0.1", 80, bogus=1)  # a keyword is Python: unknown ones are errors
    with pytest.raises(TypeError):
        sock.connect("127.0.0.1", 80, {"pool_size": 0, "ssl": True})  # a table's unused keys are ignored
    with pytest.raises(TypeError):
        sock.connect("127.0.0.1", 80, pool_size=0)
    with pytest.raises(TypeError):
        sock.connect("127.0.0.1", 80, backlog=-1)
    with pytest.raises(TypeError):
        sock.connect("127.0.0.1", 80, pool=[])
    with pytest.raises(TypeError):
        sock.connect(None, 80)
    with pytest.raises(TypeError):
        sock.settimeout(2 ** 31)


def test_unresolvable_host():
    sock = ngx.socket.tcp()
    ok, err = sock.connect("no-such-host.invalid", 80)
    assert ok is None
    assert err == "no-such-host.invalid could not be resolved (3: Host not found)"


def test_connect_by_name_with_system_resolver(serve):
    port = serve(sender(b"hi\n"))
    sock = ngx.socket.tcp()
    ok, err = sock.connect("localhost", port)
    if ok is None:  # localhost may resolve to ::1 first where nothing listens
        assert err == "connection refused"
        return
    assert sock.receive() == (b"hi", None, None)


def test_reconnect_closes_previous_connection(serve):
    closed = []

    def watch(s, addr):
        closed.append(s.recv(10))

    port = serve(watch)
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    first = sock._sock
    assert sock.connect("127.0.0.1", port) == (1, None)
    gevent.sleep(0.05)
    assert b"" in closed
    assert first.fileno() == -1


def test_peer_reset_returns_error_and_closes(serve, errlog):
    def reset(s, addr):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(b"partial")
        gevent.sleep(0.05)
        s.close()

    port = serve(reset)
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    sock.settimeout(500)
    gevent.sleep(0.1)
    data, err, partial = sock.receive(100)
    assert data is None
    assert err in ("connection reset by peer", "closed")
    assert partial in (b"partial", b"")
    assert sock.receive(1) == (None, "closed", None)
    assert sock.getreusedtimes() == (0, None)  # the write side is still open
    assert sock.close() == (1, None)
    assert sock.getreusedtimes() == (None, "closed")


def test_send_to_reset_peer_fails_and_closes(serve, errlog):
    def rst(s, addr):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()

    port = serve(rst)
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    gevent.sleep(0.05)
    results = [sock.send(b"x" * 1000) for _ in range(3)]
    failures = [r for r in results if r[0] is None]
    assert failures
    assert failures[0][1] in ("connection reset by peer", "broken pipe")
    assert results[-1] == (None, "closed")
    assert "send() failed" in errlog()


def test_send_timeout_when_peer_does_not_read(serve, errlog):
    def idle(s, addr):
        gevent.sleep(1)

    port = serve(idle)
    sock = ngx.socket.tcp()
    sock.settimeouts(1000, 60, 1000)
    sock.connect("127.0.0.1", port)
    sock.setoption("sndbuf", 4096)
    ok, err = sock.send(b"x" * (8 * 1024 * 1024))
    assert (ok, err) == (None, "timeout")
    assert "lua tcp socket write timed out" in errlog()
    assert sock.send("x") == (None, "closed")


def test_unix_socket(tmp_path):
    path = str(tmp_path / "s.sock")
    listener = gevent.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(5)
    srv = StreamServer(listener, sender(b"unix hello\n"))
    srv.start()
    try:
        sock = ngx.socket.tcp()
        assert sock.connect("unix:" + path) == (1, None)
        assert sock.receive() == (b"unix hello", None, None)
        missing = ngx.socket.tcp()
        assert missing.connect("unix:" + path + ".nope") == (None, "no such file or directory")
    finally:
        srv.stop(timeout=0.1)


def test_setoption_and_getreusedtimes(serve):
    port = serve(sender(b"", then_close=False))
    sock = ngx.socket.tcp()
    assert sock.setoption("keepalive", 1) == (None, "closed")
    sock.connect("127.0.0.1", port)
    for name in ("keepalive", "reuseaddr", "tcp-nodelay", "sndbuf", "rcvbuf"):
        assert sock.setoption(name, 8192 if "buf" in name else True) == (True, None)
    assert sock._sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.setoption("bogus", 1) == (None, "unsupported option bogus")
    assert sock.setoption() == (None, 'missing the "option" argument')
    assert sock.setoption("keepalive") == (None, 'missing the "value" argument')
    assert sock.getreusedtimes() == (0, None)


def test_bad_request_when_used_from_another_request(serve):
    class Req:
        settings = HttpSettings()
        connection_number = 1

        def log_context(self):
            return ""

    port = serve(sender(b"", then_close=False))
    req1, req2 = Req(), Req()
    sock = ngx.socket.tcp()
    token = runtime.current_request.set(req1)
    try:
        assert sock.connect("127.0.0.1", port) == (1, None)
    finally:
        runtime.current_request.reset(token)
    token = runtime.current_request.set(req2)
    try:
        with pytest.raises(RuntimeError, match="bad request"):
            sock.send("x")
    finally:
        runtime.current_request.reset(token)


def test_two_readers_busy(serve):
    port = serve(sender(b"", then_close=False))
    sock = ngx.socket.tcp()
    sock.settimeout(100)
    sock.connect("127.0.0.1", port)
    first = gevent.spawn(sock.receive, 1)
    gevent.sleep(0.01)
    assert sock.receive(1) == (None, "socket busy reading", None)  # two values in Lua: no partial
    assert first.get() == (None, "timeout", b"")


def test_server_side_wrapper_read_until(serve):
    a, b = socket.socketpair()
    ga = gevent.socket.socket(fileno=a.detach())
    sock = tcp.TCPSocket.from_accepted(ga, ("127.0.0.1", 5555))
    b.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY")
    assert sock.read_until(b"\r\n\r\n", 100) == (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None)
    assert sock.buffered() == 4
    assert sock.receive(4) == (b"BODY", None, None)
    b.sendall(b"x" * 50)
    assert sock.read_until(b"\r\n", 20) == (None, "too large")
    with pytest.raises(RuntimeError):
        sock.connect("127.0.0.1", 80)
    b.close()
    sock._finalize()
