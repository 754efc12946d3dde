"""Security defaults: TLS 1.2+ on both sides, no header injection through client options or ngx.header,
error pages that never echo what the peer sent."""
import socket
import ssl
import warnings

import gevent
import pytest
from gevent import ssl as gssl
from gevent.server import StreamServer

from cosocket import ngx, pool
from tests.reliability.conftest import conf, wait_workers
from tests.support.rawhttp import Conn
from websocket import client

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    TLS1_1 = ssl.TLSVersion.TLSv1_1


def _old_tls(ctx):
    """Let this OpenSSL speak TLS 1.1 only (security level 0 allows it), so the refusal is the peer's."""
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = TLS1_1
        ctx.maximum_version = TLS1_1
    return ctx


# -- TLS versions -----------------------------------------------------------------------------------

@pytest.fixture
def tls_srv(start_server, tls_files):
    srv = start_server(conf("""
        server {
            listen 127.0.0.1:{port} ssl;
            ssl_certificate %s/server.pem;
            ssl_certificate_key %s/server.key;
            location = /pid { content_by_python relapp:pid; }
        }""" % (tls_files, tls_files)))
    wait_workers(srv, 1)
    return srv


def _client_ctx(tls_files):
    ctx = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    ctx.check_hostname = False
    return ctx


def test_the_server_refuses_a_client_offering_only_tls_1_1(tls_srv, tls_files):
    ctx = _old_tls(_client_ctx(tls_files))
    raw = socket.create_connection(("127.0.0.1", tls_srv.port), timeout=2)
    with pytest.raises(ssl.SSLError) as info:
        ctx.wrap_socket(raw).close()
    assert "version" in str(info.value).lower() or "protocol" in str(info.value).lower()
    # the same client allowed TLS 1.2 gets in
    ctx = _client_ctx(tls_files)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls_srv.port), timeout=2)) as s:
        assert s.version() == "TLSv1.2"
        assert Conn(tls_srv.port, sock=s).request("GET", "/pid").status == 200


@pytest.fixture
def old_tls_server(tls_files):
    ctx = _old_tls(gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER))
    ctx.load_cert_chain(str(tls_files / "server.pem"), str(tls_files / "server.key"))
    srv = StreamServer(("127.0.0.1", 0), lambda s, a: gevent.sleep(0.3), ssl_context=ctx)
    srv.start()
    pool.reset_after_fork()
    yield srv
    srv.stop(timeout=0.1)
    pool.reset_after_fork()


def test_a_client_cosocket_refuses_a_server_speaking_only_tls_1_1(old_tls_server):
    sock = ngx.socket.tcp()
    sock.settimeout(1000)
    assert sock.connect("127.0.0.1", old_tls_server.server_port) == (1, None)
    session, err = sock.sslhandshake(None, "localhost", False)
    assert session is None and err.startswith("handshake failed")
    sock.close()


def test_a_wss_client_refuses_a_server_speaking_only_tls_1_1(old_tls_server):
    wb, err = client.new(timeout=1000)
    ok, err, _res = wb.connect("wss://127.0.0.1:%d/" % old_tls_server.server_port)
    assert ok is None and err.startswith("ssl handshake failed: handshake failed")


# -- header injection -------------------------------------------------------------------------------

@pytest.mark.parametrize("opts,err", [
    ({"headers": ["X-A: 1\r\nX-Evil: 1"]}, "bad custom header: contains CR or LF"),
    ({"headers": ["X-A: 1\nX-Evil: 1"]}, "bad custom header: contains CR or LF"),
    ({"origin": "http://a\r\nX-Evil: 1"}, 'bad "Origin" header value: contains CR or LF'),
    ({"protocols": ["chat\r\nX-Evil: 1"]}, 'bad "Sec-WebSocket-Protocol" header value: contains CR or LF'),
    ({"host": "a\r\nX-Evil: 1"}, 'bad "Host" header value: contains CR or LF'),
    ({"key": "k\r\nX-Evil: 1"}, 'bad "Sec-WebSocket-Key" header value: contains CR or LF'),
])
def test_the_client_refuses_cr_lf_in_header_options_before_connecting(opts, err):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    wb, _ = client.new(timeout=500)
    assert wb.connect("ws://127.0.0.1:%d/x" % listener.getsockname()[1], **opts) == (None, err, None)
    with pytest.raises(socket.timeout):  # nothing was even connected
        listener.accept()
    listener.close()


def test_the_client_refuses_cr_lf_in_the_uri_path():
    wb, _ = client.new(timeout=500)
    assert wb.connect("ws://127.0.0.1:1/x\r\nX-Evil: 1") == (None, "bad websocket uri", None)


HTTP = """
    server {
        listen 127.0.0.1:{port};
        location = /hdr { content_by_python relapp:header_crlf; }
        location = /pid { content_by_python relapp:pid; }
    }
"""


@pytest.fixture
def srv(start_server):
    srv = start_server(conf(HTTP))
    wait_workers(srv, 1)
    return srv


def test_ngx_header_values_and_names_cannot_inject_headers(srv):
    r = Conn(srv.port).request("GET", "/hdr")
    assert r.status == 200 and r.body == b"body\n"
    names = [k.lower() for k, _ in r.headers]
    assert "set-cookie" not in names and "x-evil" not in names and "injected" not in names
    assert r.header("X-Value") == "a%0D%0ASet-Cookie: evil=1"  # lua-nginx-module's escaping
    assert r.header("X-Name%0D%0AInjected") == "v"
    assert r.header_all("X-List") == ["ok", "b%0AX-Evil: 1"]
    assert b"\r\n\r\n" in r.raw_head and r.raw_head.count(b"\r\n\r\n") == 1


# -- error pages -------------------------------------------------------------------------------------

_MARK = b"<script>alert(1)</script>"


@pytest.mark.parametrize("request_bytes", [
    b"GET /" + _MARK + b" HTTP/1.1\r\nHost: x\r\n\r\n",                      # 404 for a hostile URI
    b"GET /a" + _MARK + b"?" + _MARK + b" HTTP/1.1\r\nHost: x\r\n\r\n",        # with args
    b"GET / HTTP/1.1\r\nHost: " + _MARK + b"\r\n\r\n",                          # invalid host: 400
    b"G" + _MARK + b" / HTTP/1.1\r\nHost: x\r\n\r\n",                          # invalid method: 400
    b"GET / HTTP/1.1\r\nHost: x\r\n" + _MARK + b"\r\n\r\n",                     # invalid header line: 400
    b"GET /" + b"u" * 9000 + _MARK + b" HTTP/1.1\r\nHost: x\r\n\r\n",          # 414
    b"POST /pid HTTP/1.1\r\nHost: x\r\nContent-Length: " + _MARK + b"\r\n\r\n",  # 400
    b"POST /pid HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + _MARK + b"\r\n\r\n",  # 501
])
def test_error_pages_never_echo_what_the_peer_sent(srv, request_bytes):
    c = Conn(srv.port)
    c.send(request_bytes)
    r = c.read_response()
    assert r.status >= 400
    assert b"script" not in r.body and b"script" not in r.raw_head
    assert r.body.startswith(b"<html>") or r.body == b""
