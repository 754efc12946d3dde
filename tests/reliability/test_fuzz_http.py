"""Property-based fuzzing of the HTTP request parser (cosocket/server/http.py) over a real cosocket:
any bytes give a RequestHead or an HeadError/BodyError with a status, never another exception or a hang."""
import gevent
import gevent.socket
from hypothesis import HealthCheck, given, settings, strategies as st

from cosocket.server import http
from cosocket.confmodel import HttpSettings
from cosocket.tcp import TCPSocket

FUZZ = settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = HttpSettings(large_client_header_buffers=(2, 512))

_TOKENS = st.sampled_from([
    b"GET", b"POST", b"get", b" ", b"  ", b"/", b"/a/../..", b"/%2e%2e/", b"%", b"%zz", b"?", b"#", b"http://h/x",
    b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9", b"\r\n", b"\n", b"\r", b"\r\n\r\n", b":", b"Host", b"host:",
    b"Host: a..b", b"Host: [::1]:80", b"Host: ", b"Content-Length: ", b"-1", b"99999999999999999999",
    b"Transfer-Encoding: chunked", b"ffffffffffffffff", b"0\r\n\r\n", b"\t", b"\x00", b"\xff", b"X-A: b",
])
heads = st.lists(_TOKENS | st.binary(max_size=12), max_size=40).map(b"".join)


def _parse(data: bytes):
    """read_head (then read_body as the head says) on `data` followed by EOF."""
    a, b = gevent.socket.socketpair()
    try:
        b.sendall(data)
        b.shutdown(gevent.socket.SHUT_WR)
        sock = TCPSocket.from_accepted(a, ("127.0.0.1", 1))
        sock.settimeouts(100, 100, 100)
        with gevent.Timeout(2):  # a hang is a failure, not a stuck test run
            try:
                head = http.read_head(sock, SETTINGS)
            except http.HeadError as exc:
                assert isinstance(exc.status, int) and isinstance(exc.log_msg, str)
                assert exc.status <= 0 or exc.status in (400, 408, 414, 494, 505)
                return None
            assert head.method and head.uri.startswith("/") and head.protocol in ("HTTP/1.0", "HTTP/1.1")
            chunked = (head.get("transfer-encoding") or "").lower() == "chunked"
            length = head.get("content-length")
            length = int(length) if length and length.isdigit() else None
            if length is not None and length > 4096:
                return head  # the worker refuses it with 413 before reading
            try:
                http.read_body(sock, length, chunked, 4096)
            except http.BodyError as exc:
                assert exc.status in (0, 400, 408, 413)
            return head
    finally:
        a.close()
        b.close()


@FUZZ
@given(data=heads)
def test_random_heads_parse_or_fail_with_a_status(data):
    _parse(data)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_parse_or_fail_with_a_status(data):
    _parse(data)


@FUZZ
@given(body=st.lists(_TOKENS | st.binary(max_size=8), max_size=30).map(b"".join))
def test_random_chunked_bodies_are_read_or_refused(body):
    _parse(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)


def test_a_well_formed_head_parses():
    head = _parse(b"GET /a/./b?x=1 HTTP/1.1\r\nHost: example.com:80\r\nX-A: b\r\n\r\n")
    assert (head.method, head.uri, head.args, head.host) == ("GET", "/a/b", "x=1", "example.com")
