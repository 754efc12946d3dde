"""Property-based fuzzing of the server's front door: random request bytes sent to the real server.

Whatever arrives, the server answers with statuses from nginx's set for a bad request (or serves it),
never a 500, closes the connection in a bounded time once the client has sent everything, logs no
unexpected error, and keeps serving the next client.
"""
import re
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support.serverproc import ServerProcess, nginx_conf

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_TOKENS = st.sampled_from([
    b"GET", b"POST", b"get", b"M-SEARCH", b"TRACE", b" ", b"  ", b"/", b"/a/../..", b"/%2e%2e/", b"%", b"%zz",
    b"%00", b"?", b"#", b"http://h/x", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"HTTP/9", b"\r\n",
    b"\n", b"\r", b"\r\n\r\n", b":", b"Host", b"host:", b"Host: a..b", b"Host: [::1]:80", b"Host: ",
    b"Content-Length: ", b"-1", b"+5", b"0_5", b"99999999999999999999", b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip", b"ffffffffffffffff", b"0x5", b"0\r\n\r\n", b"\t", b"\x00", b"\xff", b"X-A: b",
    b"\x16\x03\x01",
])
heads = st.lists(_TOKENS | st.binary(max_size=12), max_size=40).map(b"".join)

#: What the server may answer to a random request: served, or refused the way nginx refuses.
ALLOWED = {200, 400, 404, 405, 408, 413, 414, 501, 505}
_STATUS = re.compile(rb"^HTTP/1\.1 (\d{3}) ", re.M)

CONF = """
    access_log off;
    client_max_body_size 4096;
    client_header_timeout 2s;
    large_client_header_buffers 2 512;
    server {
        listen 127.0.0.1:{port};
        location / { content_by_python frontapp:echo; }
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("fuzz"),
                           nginx_conf(CONF, "{root}/tests/frontdoor/apps/?.py;;", worker_connections=256))
    server.start()
    yield server
    server.stop()


def _send(port: int, data: bytes) -> bytes:
    """`data`, then the client's end of the stream; everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return out
            if not chunk:
                return out
            out += chunk
    raise AssertionError("the server kept the connection open 5 s after the client's end: %r" % data)


def _check(srv, data: bytes) -> None:
    out = _send(srv.port, data)
    statuses = {int(m) for m in _STATUS.findall(out)}
    assert statuses <= ALLOWED, "%r -> %r\n%s" % (data, out[:300], srv.error_log()[-1500:])


@FUZZ
@given(data=heads)
def test_random_heads_are_served_or_refused(srv, data):
    _check(srv, data)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_are_served_or_refused(srv, data):
    _check(srv, data)


@FUZZ
@given(body=st.lists(_TOKENS | st.binary(max_size=8), max_size=30).map(b"".join))
def test_random_chunked_bodies_are_read_or_refused(srv, body):
    _check(srv, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)


def test_after_the_fuzzing_the_server_serves_and_logged_no_unexpected_error(srv):
    out = _send(srv.port, b"GET /a/./b?x=1 HTTP/1.1\r\nHost: example.com:80\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"GET /a/./b?x=1 cl=nil te=nil len=0\n")
    log = srv.error_log()
    assert "unexpected error" not in log and "Traceback" not in log and "[alert]" not in log
