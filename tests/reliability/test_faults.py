"""Faults: resets mid-frame / mid-handshake / mid-TLS-handshake, half-closed clients, plain text and garbage
on a TLS port, handlers that raise, spin or leak threads.  Each gets a clean close and a log line at the
level nginx uses (client faults at info), and the worker serves on."""
import re
import socket
import ssl
import struct
import time

import pytest

from tests.reliability.conftest import conf, wait_workers, worker_pids
from tests.reliability.wsraw import RawWS, frame, upgrade_request
from tests.support.rawhttp import Conn

LOCATIONS = """
        location = /ws { content_by_python relapp:ws_echo; }
        location = /pid { content_by_python relapp:pid; }
        location = /boom { content_by_python relapp:boom; }
        location = /spin { content_by_python relapp:spin; }
        location = /leak { content_by_python relapp:leak_threads; }
"""
HTTP = """
    client_header_timeout 500ms;
    server {
        listen 127.0.0.1:{port};
%s
    }
""" % LOCATIONS


def _reset(sock) -> None:
    """Close with an RST (SO_LINGER 0) instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _serves(srv, pids) -> None:
    assert worker_pids(srv) == pids
    assert Conn(srv.port).request("GET", "/pid").status == 200
    ws = RawWS(srv.port)
    ws.send_frame(0x1, b"still here")
    assert ws.recv_frame() == (0x1, b"still here")
    ws.close()


def _no_loud_lines(log: str) -> None:
    assert not re.search(r"\[(alert|crit|emerg)\]", log), log
    assert "Traceback" not in log


@pytest.fixture
def srv(start_server):
    srv = start_server(conf(HTTP))
    wait_workers(srv, 1)
    return srv


def _wait_log(srv, pattern, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, srv.error_log())
        if m:
            return m
        time.sleep(0.02)
    raise AssertionError("no %r in\n%s" % (pattern, srv.error_log()))


def test_a_reset_mid_frame_ends_that_session_only(srv):
    pids = worker_pids(srv)
    other = RawWS(srv.port)
    ws = RawWS(srv.port)
    ws.send(frame(0x1, b"x" * 1000)[:300])  # the head and part of the payload
    time.sleep(0.05)
    _reset(ws.sock)
    _wait_log(srv, r"\[info\] .*ws_echo ended: failed to read masking-len and payload: (closed|connection reset)")
    other.send_frame(0x1, b"unaffected")
    assert other.recv_frame() == (0x1, b"unaffected")
    _serves(srv, pids)
    _no_loud_lines(srv.error_log())
    # (nginx logs the recv() failure of a client connection at info: see pending_faults.py)


def test_a_reset_mid_handshake_is_dropped_quietly(srv):
    pids = worker_pids(srv)
    for cut in (5, 40, len(upgrade_request()) - 3):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(upgrade_request()[:cut])
        time.sleep(0.02)
        _reset(s)
    _wait_log(srv, r"\[info\] .*client prematurely closed connection while reading client request headers")
    _serves(srv, pids)
    _no_loud_lines(srv.error_log())
    assert "[error]" not in srv.error_log()


def test_a_half_closed_client_still_gets_its_answers(srv):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
    s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK") and data.rstrip().endswith(str(worker_pids(srv)[0]).encode())
    # the same with a WebSocket: frames sent before the FIN are all answered
    ws = RawWS(srv.port)
    for i in range(3):
        ws.send_frame(0x1, b"msg %d" % i)
    ws.sock.shutdown(socket.SHUT_WR)
    assert [ws.recv_frame() for _ in range(3)] == [(0x1, b"msg %d" % i) for i in range(3)]
    assert ws.closed_by_server()


def test_a_handler_that_raises_gets_a_500_and_the_worker_serves_on(srv):
    pids = worker_pids(srv)
    other = RawWS(srv.port)
    for _ in range(3):
        assert Conn(srv.port).request("GET", "/boom").status == 500
    log = srv.error_log()
    assert re.search(r"\[error\] .*handler exploded on purpose", log)
    other.send_frame(0x1, b"fine")
    assert other.recv_frame() == (0x1, b"fine")
    _serves(srv, pids)
    assert not re.search(r"\[(alert|crit|emerg)\]", log)


def test_leaked_light_threads_do_not_take_other_connections_down(srv):
    pids = worker_pids(srv)
    for _ in range(5):
        c = Conn(srv.port, timeout=0.3)
        c.send(b"GET /leak HTTP/1.1\r\nHost: x\r\n\r\n")
        try:  # as in nginx, the request lives as long as its light threads: it may never finish
            c.read_response()
        except (OSError, ConnectionError):
            pass
        _reset(c.sock)
    t0 = time.monotonic()
    for _ in range(10):
        assert Conn(srv.port).request("GET", "/pid").status == 200
    assert time.monotonic() - t0 < 1.0  # 100 sleeping threads cost the worker nothing noticeable
    _serves(srv, pids)
    _no_loud_lines(srv.error_log())


def test_a_cpu_bound_handler_stalls_only_its_own_worker(start_server):
    srv = start_server(conf(HTTP, workers=2))
    wait_workers(srv, 2)
    by_pid = {}
    for _ in range(200):  # generous: on a loaded machine one worker may win most accepts
        ws = RawWS(srv.port)
        ws.send_frame(0x1, b"pid")
        pid = int(ws.recv_frame()[1])
        group = by_pid.setdefault(pid, [])
        if len(group) < 2:
            group.append(ws)
        else:
            ws.close()
        if len(by_pid) == 2 and all(len(g) == 2 for g in by_pid.values()):
            break
    busy_pid, calm_pid = sorted(by_pid)
    spinner, neighbour = by_pid[busy_pid]
    spinner.send_frame(0x1, b"spin:600")
    time.sleep(0.1)
    t0 = time.monotonic()
    for ws in by_pid[calm_pid]:  # the other worker answers at once
        ws.send_frame(0x1, b"calm")
        assert ws.recv_frame() == (0x1, b"calm")
    assert time.monotonic() - t0 < 0.2
    t0 = time.monotonic()
    neighbour.send_frame(0x1, b"stalled")  # the spinning worker answers only once the handler yields
    assert neighbour.recv_frame() == (0x1, b"stalled")
    assert time.monotonic() - t0 > 0.3
    assert spinner.recv_frame() == (0x1, b"spin:600")
    assert worker_pids(srv) == sorted(by_pid)


# -- TLS ------------------------------------------------------------------------------------------

@pytest.fixture
def tls_srv(start_server, tls_files):
    srv = start_server(conf("""
        client_header_timeout 500ms;
        server {
            listen 127.0.0.1:{port} ssl;
            ssl_certificate %s/server.pem;
            ssl_certificate_key %s/server.key;
%s
        }""" % (tls_files, tls_files, LOCATIONS)))
    wait_workers(srv, 1)
    return srv


def _tls_get(port, tls_files):
    ctx = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=2)
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        c = Conn(port, sock=s)
        return c.request("GET", "/pid")


def test_a_reset_mid_tls_handshake_is_logged_at_info(tls_srv, tls_files):
    pids = worker_pids(tls_srv)
    hello = bytes.fromhex("16030100c4010000c00303") + b"\x11" * 40  # a ClientHello cut short
    s = socket.create_connection(("127.0.0.1", tls_srv.port))
    s.sendall(hello)
    time.sleep(0.05)
    _reset(s)
    _wait_log(tls_srv, r"\[info\] .*while SSL handshaking")
    assert _tls_get(tls_srv.port, tls_files).status == 200
    assert worker_pids(tls_srv) == pids
    _no_loud_lines(tls_srv.error_log())
    assert "[error]" not in tls_srv.error_log()


def test_garbage_on_a_tls_port_is_closed_cleanly(tls_srv, tls_files):
    pids = worker_pids(tls_srv)
    for junk in (b"\x16\x03\x01\x00\x05hello", b"\x16" + b"\xff" * 600, b"\x80\x00\x00"):
        s = socket.create_connection(("127.0.0.1", tls_srv.port), timeout=2)
        s.sendall(junk)
        try:
            rest = s.recv(4096)
            assert not rest.startswith(b"HTTP/")
        except ConnectionResetError:
            pass
        s.close()
    _wait_log(tls_srv, r"\[info\] .*SSL_do_handshake\(\) failed .* while SSL handshaking")
    assert _tls_get(tls_srv.port, tls_files).status == 200
    assert worker_pids(tls_srv) == pids
    _no_loud_lines(tls_srv.error_log())
    assert "[error]" not in tls_srv.error_log()


def test_plain_http_on_a_tls_port_is_answered_400_and_closed_with_an_info_line(tls_srv, tls_files):
    # nginx's answer: its 400 "The plain HTTP request was sent to HTTPS port" page, then the close
    pids = worker_pids(tls_srv)
    c = Conn(tls_srv.port)
    c.send(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.read_response().status == 400
    assert c.is_closed()
    _wait_log(tls_srv, r"\[info\] .*client sent plain HTTP request to HTTPS port")
    assert _tls_get(tls_srv.port, tls_files).status == 200
    assert worker_pids(tls_srv) == pids
    _no_loud_lines(tls_srv.error_log())
    assert "[error]" not in tls_srv.error_log()
