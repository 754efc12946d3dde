"""Slow clients: a trickled head is cut at client_header_timeout (a total, as nginx), an idle WebSocket at
the handler's timeout, and a client that stops reading blocks only its own handler, for send_timeout."""
import re
import socket
import time

import pytest

from tests.reliability.conftest import conf, rss_kib, wait_workers, worker_pids
from tests.reliability.wsraw import RawWS, upgrade_request
from tests.support.rawhttp import Conn

HTTP = """
    client_header_timeout 400ms;
    send_timeout 300ms;
    server {
        listen 127.0.0.1:{port};
        location = /ws { content_by_python relapp:ws_echo; }
        location = /flood { content_by_python relapp:ws_flood; }
        location = /pid { content_by_python relapp:pid; }
    }
"""


@pytest.fixture
def srv(start_server):
    srv = start_server(conf(HTTP))
    wait_workers(srv, 1)
    return srv


def _trickle(sock, data: bytes, interval: float, limit: float) -> float:
    """Send `data` a byte at a time until the server closes; the seconds it took (or `limit`)."""
    t0 = time.monotonic()
    for b in data:
        if time.monotonic() - t0 > limit:
            break
        try:
            sock.sendall(bytes((b,)))
        except OSError:
            break
        time.sleep(interval)
        if _closed(sock):
            break
    return time.monotonic() - t0


def _closed(sock) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def test_a_head_sent_a_byte_at_a_time_is_cut_at_client_header_timeout_in_total(srv):
    # nginx arms the client_header_timeout timer once for the whole head: bytes arriving do not reset it.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
    head = b"GET /pid HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"s" * 200 + b"\r\n\r\n"
    elapsed = _trickle(s, head, 0.03, 3.0)
    assert 0.35 < elapsed < 1.2, elapsed  # a per-byte timer would let it run for ~7 s
    log = srv.error_log()
    assert re.search(r"\[info\] .*client timed out \(110: Connection timed out\) while reading client request "
                     r"headers", log)
    assert Conn(srv.port).request("GET", "/pid").status == 200


def test_a_connection_that_sends_nothing_is_closed_at_client_header_timeout(srv):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
    t0 = time.monotonic()
    assert s.recv(10) == b""
    assert 0.35 < time.monotonic() - t0 < 1.2


def test_the_tls_handshake_counts_in_client_header_timeout(start_server, tls_files):
    srv = start_server(conf("""
        client_header_timeout 400ms;
        server {
            listen 127.0.0.1:{port} ssl;
            ssl_certificate %s/server.pem;
            ssl_certificate_key %s/server.key;
            location = /pid { content_by_python relapp:pid; }
        }""" % (tls_files, tls_files)))
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    # a ClientHello trickled a byte at a time never completes: cut at the timeout
    hello = bytes.fromhex("16030100c4010000c00303") + b"\x00" * 300
    elapsed = _trickle(s, hello, 0.03, 3.0)
    assert elapsed < 1.2, elapsed
    assert "while SSL handshaking" in srv.error_log()


def test_an_idle_websocket_is_cut_by_the_handlers_timeout(srv):
    ws = RawWS(srv.port, "/ws?t=200")
    t0 = time.monotonic()
    assert ws.closed_by_server(2.0)
    assert 0.15 < time.monotonic() - t0 < 1.0
    assert "ws_echo ended: failed to receive the first 2 bytes: timeout" in srv.error_log()


def test_a_client_that_stops_reading_blocks_only_its_handler_for_send_timeout(srv):
    (pid,) = worker_pids(srv)
    before = rss_kib(pid)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(upgrade_request("/flood?t=300"))
    time.sleep(0.1)  # the server fills the socket buffers, then its send waits
    # meanwhile the worker serves everyone else
    t0 = time.monotonic()
    for _ in range(5):
        assert Conn(srv.port).request("GET", "/pid").status == 200
    assert time.monotonic() - t0 < 1.0
    deadline = time.monotonic() + 3
    while "flood stopped" not in srv.error_log() and time.monotonic() < deadline:
        time.sleep(0.05)
    m = re.search(r"flood stopped after (\d+) bytes in ([\d.]+) s: (.*)", srv.error_log())
    assert m, srv.error_log()
    sent, waited, err = int(m.group(1)), float(m.group(2)), m.group(3)
    assert "timeout" in err
    assert 0.25 < waited < 1.0  # the blocked send waited the socket's send timeout (300 ms), no longer
    assert sent < 16 * 1024 * 1024  # what the kernel buffers hold, nothing more
    assert rss_kib(pid) - before < 8192  # no user-space buffer grew with what the client did not read
    s.close()
