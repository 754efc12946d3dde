"""send_timeout and client_body_timeout: a stalled client is cut off, the worker serves others."""
import re
import socket
import time

from tests.server.conftest import conf
from tests.server.test_process import wait_for
from tests.support.rawhttp import Conn, get

HTTP = """
    client_body_timeout 300ms;
    server {
        listen 127.0.0.1:{port};
        location = /hello { content_by_python srvapp:hello; }
        location = /body { content_by_python srvapp:body_len; }
        location = /flood { send_timeout 400ms; content_by_python srvapp:flood; }
    }
"""


def stalled_client(port, request: bytes) -> socket.socket:
    """A client that sends `request` and then reads nothing (small receive buffer)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(request)
    return s


def drain_until_closed(s: socket.socket, timeout=3.0) -> bytes:
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return data
            data += chunk
    except ConnectionResetError:
        return data


def test_send_timeout_cuts_a_client_that_stops_reading(start_server):
    srv = start_server(conf(HTTP, workers=1))
    t0 = time.monotonic()
    s = stalled_client(srv.port, b"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.15)  # the handler is now blocked on a full socket: the worker serves others
    assert get(srv.port, "/hello").body == b"hello\n"
    log = wait_for(lambda: re.search(r"flood stopped after (\d+) chunks: (\w+)", srv.error_log()))
    assert log.group(2) == "timeout"  # ngx.flush(true) answers (nil, "timeout")
    assert time.monotonic() - t0 >= 0.4
    assert "client timed out (110: Connection timed out) while sending response to client" in srv.error_log()
    data = drain_until_closed(s)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and len(data) < 65536 * (int(log.group(1)) + 2)
    assert not data.endswith(b"0\r\n\r\n")  # the response is cut, not completed
    assert get(srv.port, "/hello").body == b"hello\n"


def test_client_body_timeout_closes_without_a_response(start_server):
    srv = start_server(conf(HTTP, workers=1))
    c = Conn(srv.port)
    t0 = time.monotonic()
    c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
    assert get(srv.port, "/hello").body == b"hello\n"  # the waiting handler blocks nobody
    assert c.is_closed(timeout=2.0)
    assert time.monotonic() - t0 >= 0.3
    log = srv.error_log()
    assert "client timed out (110: Connection timed out) while reading client request body" in log
    assert "body_len reached the end" not in log
    wait_for(lambda: re.search(r'"POST /body HTTP/1.1" 408 ', (srv.prefix / "logs" / "access.log").read_text()))
    # a body that arrives in time is read
    assert Conn(srv.port).request("POST", "/body", body=b"x" * 50).body == b"body=50\n"
