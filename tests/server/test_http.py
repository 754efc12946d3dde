"""HTTP/1.x behaviour of the real server: keep-alive, HEAD, 1.0, bodies, limits, errors."""
import time

import pytest

from tests.server.conftest import conf
from tests.support.rawhttp import Conn

HTTP = """
    client_header_timeout 300ms;
    client_body_timeout 300ms;
    keepalive_timeout 400ms;
    client_max_body_size 100;
    large_client_header_buffers 4 1k;
    server {
        listen 127.0.0.1:{port};
        server_name localhost;
        location = /hello { content_by_python srvapp:hello; }
        location = /info { content_by_python srvapp:echo_info; }
        location = /stream { content_by_python srvapp:stream; }
        location = /boom { content_by_python srvapp:boom; }
        location = /exit444 { content_by_python srvapp:exit444; }
        location = /exit { content_by_python srvapp:exit_code; }
        location = /exit_ok { content_by_python srvapp:exit_ok; }
        location = /big { content_by_python srvapp:big; }
        location = /ret { return 200 "returned"; }
        location = /ret403 { return 403; }
        location = /moved { return 301 /new; }
        location = /tokens { server_tokens off; return 404; }
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from tests.support.serverproc import ServerProcess
    s = ServerProcess(tmp_path_factory.mktemp("http"), conf(HTTP))
    s.start()
    yield s
    s.stop()


def test_keepalive_serves_several_requests_on_one_connection(srv):
    with Conn(srv.port) as c:
        for _ in range(3):
            r = c.request("GET", "/hello")
            assert r.status == 200 and r.body == b"hello\n"
            assert r.header("Content-Length") == "6"
            assert r.header("Connection") == "keep-alive"
            assert r.header("Content-Type") == "text/plain"
            assert r.header("Server").startswith("cosocket/")
            assert r.header("Date").endswith(" GMT")


def test_connection_close_is_honoured(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/hello", headers={"Connection": "close"})
        assert r.header("Connection") == "close"
        assert c.is_closed()


def test_head_sends_headers_only(srv):
    with Conn(srv.port) as c:
        r = c.request("HEAD", "/hello")
        assert r.status == 200 and r.header("Content-Length") == "6"
        r2 = c.request("GET", "/hello")  # nothing of the HEAD body was left on the wire
        assert r2.body == b"hello\n"


def test_http10_closes_unless_keepalive_asked(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /hello HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.version == "HTTP/1.1" and r.body == b"hello\n"
        assert r.header("Connection") == "close"
        assert c.is_closed()
    with Conn(srv.port) as c:
        r = c.request("GET", "/hello", headers={"Connection": "keep-alive"}, version="HTTP/1.0")
        assert r.header("Connection") == "keep-alive"
        assert c.request("GET", "/hello", version="HTTP/1.0").body == b"hello\n"


def test_http10_streaming_is_close_delimited(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /stream HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.header("Transfer-Encoding") is None and r.header("Content-Length") is None
        assert r.body == b"part1\nflush=1,nil\npart2\n"


def test_flush_streams_with_chunked_encoding(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/stream")
        assert r.header("Transfer-Encoding") == "chunked"
        assert r.body == b"part1\nflush=1,nil\npart2\n"
        assert r.chunks[0] == b"part1\n"
        assert c.request("GET", "/hello").body == b"hello\n"


def test_large_output_goes_chunked(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/big")
        assert r.header("Transfer-Encoding") == "chunked"
        assert r.body == b"x" * 200000


def test_content_length_body(srv):
    with Conn(srv.port) as c:
        r = c.request("POST", "/info", body=b"a=1&b=2")
        assert r.status == 200
        assert r.header("Content-Type") == "application/json"
        assert b'"body": "a=1&b=2"' in r.body


def test_chunked_request_body(srv):
    with Conn(srv.port) as c:
        c.send(b"POST /info HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
        r = c.read_response()
        assert b'"body": "hello world"' in r.body
        assert c.request("GET", "/hello").body == b"hello\n"  # the connection is still in sync


def test_unread_body_is_discarded_for_the_next_request(srv):
    with Conn(srv.port) as c:
        r = c.request("POST", "/hello", body=b"0123456789")
        assert r.body == b"hello\n"
        assert c.request("GET", "/hello").body == b"hello\n"


def test_413_for_a_too_large_body(srv):
    with Conn(srv.port) as c:
        r = c.request("POST", "/info", body=b"x" * 101)
        assert r.status == 413 and r.reason == "Request Entity Too Large"
        assert b"<title>413 Request Entity Too Large</title>" in r.body
        assert r.header("Connection") == "close"
    assert "client intended to send too large body: 101 bytes" in srv.error_log()


def test_413_for_a_too_large_chunked_body(srv):
    with Conn(srv.port) as c:
        c.send(b"POST /info HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"64\r\n" + b"y" * 100 + b"\r\n2\r\nzz\r\n0\r\n\r\n")
        r = c.read_response()
        assert r.status == 413


def test_414_for_a_too_long_request_line(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.status == 414 and r.reason == "Request-URI Too Large"
        assert c.is_closed()


def test_400_for_a_too_long_header_line(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 2000 + b"\r\n\r\n")
        r = c.read_response()
        assert r.status == 400 and r.reason == "Bad Request"
        assert b"<title>400 Request Header Or Cookie Too Large</title>" in r.body
        assert b"<center>Request Header Or Cookie Too Large</center>" in r.body


def test_400_for_garbage_and_for_a_missing_host(srv):
    with Conn(srv.port) as c:
        c.send(b"NOT A VALID REQUEST LINE\r\n\r\n")
        assert c.read_response().status == 400
    with Conn(srv.port) as c:
        c.send(b"GET /hello HTTP/1.1\r\n\r\n")
        assert c.read_response().status == 400


def test_client_header_timeout_closes_without_a_response(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /hello HTTP/1.1\r\nHost: x\r\n")  # never finished
        t0 = time.monotonic()
        assert c.sock.recv(100) == b""  # nginx closes silently on a header timeout
        assert 0.2 < time.monotonic() - t0 < 2.0


def test_keepalive_timeout_closes_idle_connections(srv):
    with Conn(srv.port) as c:
        assert c.request("GET", "/hello").status == 200
        t0 = time.monotonic()
        assert c.sock.recv(100) == b""
        assert 0.3 < time.monotonic() - t0 < 2.0


def test_handler_exception_gives_500_and_a_logged_traceback(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/boom")
        assert r.status == 500 and b"<title>500 Internal Server Error</title>" in r.body
        assert b"never sent" not in r.body
    log = srv.error_log()
    assert "[error]" in log and "lua entry thread aborted: runtime error: " in log
    assert "srvapp.py:" in log and "ValueError: boom from the handler" in log and "stack traceback:" in log
    assert 'request: "GET /boom HTTP/1.1"' in log
    assert Conn(srv.port).request("GET", "/hello").body == b"hello\n"  # the worker keeps serving


def test_exit_444_closes_without_a_response(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /exit444 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.sock.recv(100) == b""


@pytest.mark.parametrize("code,reason", [(404, "Not Found"), (403, "Forbidden"), (503, "Service Temporarily Unavailable")])
def test_exit_with_an_error_status_sends_its_page(srv, code, reason):
    with Conn(srv.port) as c:
        r = c.request("GET", "/exit?code=%d" % code)
        assert (r.status, r.reason) == (code, reason)
        assert ("<center><h1>%d %s</h1></center>" % (code, reason)).encode() in r.body
        assert r.header("Content-Type") == "text/html"


def test_exit_with_a_2xx_status_sends_headers_and_ends(srv):
    r = Conn(srv.port).request("GET", "/exit?code=204")
    assert r.status == 204 and r.body == b""


def test_exit_ok_ends_the_handler_keeping_output(srv):
    r = Conn(srv.port).request("GET", "/exit_ok")
    assert r.status == 200 and r.body == b"before\n"


def test_return_directive(srv):
    with Conn(srv.port) as c:
        assert c.request("GET", "/ret").body == b"returned"
        r = c.request("GET", "/ret403")
        assert r.status == 403
        r = c.request("GET", "/moved")
        assert r.status == 301 and r.header("Location") == "/new"
        assert b"<title>301 Moved Permanently</title>" in r.body


def test_server_tokens_off_and_404_page(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/tokens")
        assert r.header("Server") == "cosocket"
        assert b"<hr><center>cosocket</center>" in r.body
        r = c.request("GET", "/no/such/location")
        assert r.status == 404 and b"<hr><center>cosocket/" in r.body


def test_pipelined_requests_are_answered_in_order(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /ret HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.read_response().body == b"hello\n"
        assert c.read_response().body == b"returned"
