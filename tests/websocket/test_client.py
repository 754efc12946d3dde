"""websocket.client against a gevent peer on 127.0.0.1: every connect option, response checks, pooling, TLS."""
import re
import uuid

import gevent
import pytest
from gevent import ssl  # the peer runs in this hub: a stdlib context would block it

from cosocket import runtime
from cosocket.ngx import ngx
from websocket import client

from .peer import Peer, accept_for, good_response, request_key, wait_for


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.stop()


def new(**kw):
    wb, err = client.new(**kw)
    assert err is None
    return wb


def pool_name():
    return "pool-" + uuid.uuid4().hex


# --- new() ---------------------------------------------------------------

def test_new_options_and_unknown_option():
    wb, err = client.new({"max_payload_len": 10}, timeout=100)
    assert err is None and wb.max_recv_len == 10 and wb.max_send_len == 10 and wb.masking
    wb, _ = client.new(max_recv_len=5, max_send_len=7, send_unmasked=True)
    assert (wb.max_recv_len, wb.max_send_len, wb.masking) == (5, 7, False)
    assert client.new()[0].max_recv_len == 65535
    with pytest.raises(TypeError, match="max_payload"):
        client.new(max_payload=1)
    with pytest.raises(TypeError):
        client.new(timeout="1s")


# --- the handshake request on the wire ----------------------------------------

def test_default_request_head_and_response(peer):
    wb = new()
    ok, err, res = wb.connect(peer.url("/s?a=1"))
    assert (ok, err) == (1, None)
    assert res.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert "Sec-WebSocket-Accept: " in res and not res.endswith("\r\n")
    head = peer.requests[0]
    key = request_key(head)
    assert len(__import__("base64").b64decode(key)) == 16
    assert head == ("GET /s?a=1 HTTP/1.1\r\nUpgrade: websocket\r\nHost: 127.0.0.1:%d\r\n"
                    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nConnection: Upgrade" % (peer.port, key))
    wb.close()


def test_path_defaults_to_slash(peer):
    wb = new()
    assert wb.connect("ws://127.0.0.1:%d" % peer.port)[0] == 1
    assert peer.requests[0].startswith("GET / HTTP/1.1\r\n")


@pytest.mark.parametrize("protocols,line", [("json", "json"), (["xml", "json"], "xml,json"), (("a",), "a")])
def test_protocols(peer, protocols, line):
    wb = new()
    assert wb.connect(peer.url(), protocols=protocols)[0] == 1
    head = peer.requests[0]
    # upstream's order: the protocol line sits between the key and the version
    assert "\r\nSec-WebSocket-Protocol: %s\r\nSec-WebSocket-Version: 13\r\n" % line in head


def test_origin_custom_headers_host_key(peer):
    wb = new()
    ok, err, res = wb.connect(peer.url(), {
        "origin": "test.com",
        "headers": ["a-header: a header value", "another-header: another"],
        "host": "client.test:8080",
        "key": "y7KXwBSpVrxtkR0O+bQt+Q==",
    })
    assert (ok, err) == (1, None)
    head = peer.requests[0]
    assert "\r\nHost: client.test:8080\r\n" in head
    assert "\r\nSec-WebSocket-Key: y7KXwBSpVrxtkR0O+bQt+Q==\r\n" in head
    assert "\r\nSec-WebSocket-Version: 13\r\nOrigin: test.com\r\nConnection: Upgrade\r\n" in head
    assert head.endswith("\r\na-header: a header value\r\nanother-header: another")
    assert "Sec-WebSocket-Accept: %s" % accept_for("y7KXwBSpVrxtkR0O+bQt+Q==") in res


def test_host_without_port(peer):
    wb = new()
    assert wb.connect(peer.url(), host="client.test")[0] == 1
    assert "\r\nHost: client.test\r\n" in peer.requests[0]


@pytest.mark.parametrize("opts,err", [
    ({"origin": "a\r\nX-Evil: 1"}, 'bad "Origin" header value: contains CR or LF'),
    ({"host": "h\nx"}, 'bad "Host" header value: contains CR or LF'),
    ({"key": "k\r"}, 'bad "Sec-WebSocket-Key" header value: contains CR or LF'),
    ({"protocols": ["a", "b\r\nc"]}, 'bad "Sec-WebSocket-Protocol" header value: contains CR or LF'),
    ({"headers": ["ok: 1", "x: y\r\nz: w"]}, "bad custom header: contains CR or LF"),
    ({"server_name": 1}, "SSL server_name must be a string"),
    ({"headers": "x: y"}, "custom headers must be a table"),
    ({"host": 5}, "custom host header must be a string"),
    ({"key": 5}, "custom Sec-WebSocket-Key must be a string"),
])
def test_refused_options_send_nothing(peer, opts, err):
    wb = new()
    assert wb.connect(peer.url(), opts) == (None, err, None)
    gevent.sleep(0.02)
    assert peer.connections == 0


def test_argument_errors(peer):
    wb = new()
    with pytest.raises(TypeError, match="colour"):
        wb.connect(peer.url(), colour="red")
    with pytest.raises(TypeError):
        wb.connect(b"ws://127.0.0.1/")
    with pytest.raises(TypeError, match="client_priv_key must be provided with client_cert"):
        wb.connect(peer.url(scheme="wss"), client_cert=object())


@pytest.mark.parametrize("uri", ["http://127.0.0.1/", "ws://", "ws:///x", "127.0.0.1:80", "ws://h/a b"])
def test_bad_uri(uri):
    assert new().connect(uri) == (None, "bad websocket uri", None)


@pytest.mark.parametrize("uri", [
    "ws://127.0.0.1\r\nX-Injected: 1/x", "ws://h\nx:80/", "ws://h x/", "ws://h\x01/", "ws://h\x7f/",
    "ws://127.0.0.1:80/#frag", "ws://127.0.0.1:80/a#b", "ws://127.0.0.1:80/a\x00b", "ws://127.0.0.1:80/a\x1fb",
    "ws://127.0.0.1:\u0668\u0660/", "ws://127.0.0.1:8\uff10/", "wss://[::1/x", "ws://[::1", "ws://h]:80/",
    "ws://127.0.0.1:80x/", "ws://unix:/tmp/x.sock:/a\x00",
])
def test_uri_refused_as_a_url_parser_would(uri):
    assert new().connect(uri) == (None, "bad websocket uri", None)


def test_ipv6_literal_and_query_only_uris_still_parse(peer):
    wb = new(timeout=1000)
    assert wb.connect("ws://127.0.0.1:%d?x=1" % peer.port)[:2] == (1, None)
    assert peer.requests[0].startswith("GET /?x=1 HTTP/1.1\r\n")
    wb.close()
    ok, err, _ = new(timeout=200).connect("ws://[::1]:1/x")
    assert ok is None and err != "bad websocket uri"


def test_connect_refused():
    wb = new(timeout=500)
    p = Peer()
    port = p.port
    p.stop()
    ok, err, res = wb.connect("ws://127.0.0.1:%d/" % port)
    assert ok is None and err.startswith("failed to connect: ") and res is None


# --- response checks ----------------------------------------------------------

def _peer_replying(reply):
    return Peer(respond=reply if callable(reply) else (lambda head: reply))


@pytest.mark.parametrize("reply,err", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "bad HTTP response status: 200"),
    (b"HTTP/1.0 101 Switching Protocols\r\n\r\n", "bad HTTP response status line: HTTP/1.0 101 Switching Protocols"),
    (lambda h: good_response(h).replace(b"Upgrade: websocket", b"Upgrade: h2c"),
     'bad "upgrade" response header: h2c'),
    (lambda h: good_response(h).replace(b"Upgrade: websocket\r\n", b""), 'bad "upgrade" response header: nil'),
    (lambda h: good_response(h).replace(b"Connection: upgrade", b"Connection: close"),
     'bad "connection" response header: close'),
    (lambda h: re.sub(rb"Sec-WebSocket-Accept: [^\r]*", b"Sec-WebSocket-Accept: x", good_response(h)),
     'bad "sec-websocket-accept" response header: x'),
    (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
     'bad "sec-websocket-accept" response header: nil'),
    (None, "failed to receive response header: closed"),
    (lambda h: b"HTTP/1.1 101 OK\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n",
     "failed to receive response header: too large (over 16384 bytes)"),
])
def test_response_checks(reply, err):
    p = _peer_replying(reply)
    try:
        assert new(timeout=1000).connect(p.url()) == (None, err, None)
    finally:
        p.stop()


def test_response_header_timeout():
    p = Peer(respond=lambda h: gevent.sleep(0.3) or None)
    try:
        assert new(timeout=50).connect(p.url()) == (None, "failed to receive response header: timeout", None)
    finally:
        p.stop()


def test_connection_tokens_and_case_accepted():
    p = _peer_replying(lambda h: good_response(h).replace(b"Connection: upgrade", b"CONNECTION: keep-alive, Upgrade")
                       .replace(b"Upgrade: websocket", b"upgrade: WebSocket"))
    try:
        assert new().connect(p.url())[0] == 1
    finally:
        p.stop()


# --- frames ----------------------------------------------------------------

def test_frames_round_trip(peer):
    wb = new(timeout=1000)
    assert wb.connect(peer.url())[0] == 1
    assert wb.send_text("你好") == (2 + 4 + 6, None)  # masked: header + key + payload
    assert wb.recv_frame() == ("你好", "text", None)
    assert wb.send_binary(b"\x00\xff") == (8, None)
    assert wb.recv_frame() == (b"\x00\xff", "binary", None)
    assert wb.send_ping(b"hb")[1] is None
    assert wb.recv_frame() == (b"hb", "pong", None)
    assert wb.send_pong()[1] is None
    assert wb.send_close(1000, "done") == (2 + 4 + 6, None)
    assert wb.recv_frame() == ("bye", "close", 1000)
    assert wb.send_text("late") == (None, "already closed")
    assert wb.close() == (1, None)
    wait_for(lambda: peer.frames and peer.frames[-1][1] == "close")
    assert [f[1] for f in peer.frames] == ["text", "binary", "ping", "pong", "close"]
    assert peer.frames[-1] == ("done", "close", 1000)


def test_close_sends_close_frame_first(peer):
    wb = new(timeout=1000)
    wb.connect(peer.url())
    assert wb.close() == (1, None)
    wait_for(lambda: peer.frames)
    assert peer.frames[0] == ("", "close", None)


def test_close_logs_debug_line(peer, tmp_path, monkeypatch):
    from cosocket import log
    monkeypatch.setattr(log, "_targets", log._targets)  # restored after the test
    monkeypatch.setattr(log, "_max_level", log._max_level)
    monkeypatch.setattr(log, "debug_enabled", log.debug_enabled)
    path = tmp_path / "error.log"
    log.configure([(str(path), "debug")])
    wb = new(timeout=1000)
    wb.connect(peer.url())
    wb.send_text("x")
    wb.recv_frame()
    wb.close()
    text = path.read_text()
    assert "[debug]" in text and "sending the close frame" in text
    assert "recv_frame: mask bit: 0" in text


def test_send_unmasked_option():
    p = Peer(force_masking=True)
    try:
        wb = new(send_unmasked=True, timeout=1000)
        wb.connect(p.url())
        wb.send_text("plain")
        wait_for(lambda: p.frames)
        assert p.frames[0] == (None, None, "frame unmasked")
    finally:
        p.stop()


def test_masked_server_frames_accepted():
    p = Peer(send_masked=True)
    try:
        wb = new(timeout=1000)
        wb.connect(p.url())
        wb.send_text("m")
        assert wb.recv_frame() == ("m", "text", None)
    finally:
        p.stop()


def test_recv_timeout_then_data():
    def slow(conn, peer):
        gevent.sleep(0.15)
        from websocket import protocol
        protocol.send_frame(conn, True, 1, "late", 100, False)
        gevent.sleep(0.2)
    p = Peer(session=slow)
    try:
        wb = new(timeout=50)
        wb.connect(p.url())
        assert wb.recv_frame() == (None, None, "failed to receive the first 2 bytes: timeout")
        wb.set_timeout(1000)
        assert wb.recv_frame() == ("late", "text", None)
    finally:
        p.stop()


def test_limits():
    p = Peer()
    try:
        wb = new(max_send_len=200, max_recv_len=100, timeout=1000)
        wb.connect(p.url())
        assert wb.send_text("a" * 201) == (None, "payload too big")
        assert wb.send_text("a") == (None, "fatal error already happened")
        wb = new(max_send_len=200, max_recv_len=100, timeout=1000)
        wb.connect(p.url())
        assert wb.send_text("a" * 100)[1] is None
        assert wb.recv_frame() == ("a" * 100, "text", None)
        assert wb.send_text("a" * 101)[1] is None
        assert wb.recv_frame() == (None, None, "exceeding max payload len")
        assert wb.recv_frame() == (None, None, "fatal error already happened")
    finally:
        p.stop()


# --- pooling ---------------------------------------------------------------

def test_set_keepalive_reuse_three_times(peer):
    wb = new(timeout=1000)
    pool = pool_name()
    seen = []
    for i in range(1, 4):
        ok, err, res = wb.connect(peer.url(), pool=pool)
        assert (ok, err) == (1, None)
        seen.append(res if res == "connection reused" else "new connection")
        assert wb.send_text("hello %d" % i)[1] is None
        assert wb.recv_frame() == ("hello %d" % i, "text", None)
        assert wb.set_keepalive() == (1, None)
    assert seen == ["new connection", "connection reused", "connection reused"]
    assert peer.connections == 1
    # after set_keepalive the object answers closed (the first failure is then fatal, as upstream)
    assert wb.send_text("x") == (None, "failed to send frame: closed")
    assert wb.recv_frame() == (None, None, "fatal error already happened")


def test_reuse_by_a_new_object_and_pool_names(peer):
    pool = pool_name()
    wb = new(timeout=1000)
    assert wb.connect(peer.url(), pool=pool)[2].startswith("HTTP/1.1 101")
    assert wb.set_keepalive(1000, 5) == (1, None)
    wb2 = new(timeout=1000)
    assert wb2.connect(peer.url(), pool=pool) == (1, None, "connection reused")
    assert wb2.send_text("again")[1] is None
    assert wb2.recv_frame() == ("again", "text", None)
    # another pool name does not share the connection
    wb3 = new(timeout=1000)
    assert wb3.connect(peer.url(), pool=pool_name())[2].startswith("HTTP/1.1 101")
    assert peer.connections == 2


def test_pool_size_and_backlog(peer):
    pool = pool_name()
    first = new(timeout=1000)
    assert first.connect(peer.url(), pool=pool, pool_size=1, backlog=0)[0] == 1
    second = new(timeout=1000)
    assert second.connect(peer.url(), pool=pool, pool_size=1, backlog=0) == (
        None, "failed to connect: too many waiting connect operations", None)
    first.close()


# --- unix sockets ------------------------------------------------------------

def test_unix_socket_uri(tmp_path):
    path = str(tmp_path / "ws.sock")
    p = Peer(unix_path=path)
    try:
        wb = new(timeout=1000)
        ok, err, res = wb.connect("ws://unix:%s:/chat" % path)
        assert (ok, err) == (1, None)
        head = p.requests[0]
        assert head.startswith("GET /chat HTTP/1.1\r\n") and "\r\nHost: unix_sock\r\n" in head
        wb.send_text("u")
        assert wb.recv_frame() == ("u", "text", None)
        wb.close()
        wb = new(timeout=1000)
        assert wb.connect("ws://unix:%s:" % path)[0] == 1
        assert p.requests[1].startswith("GET / HTTP/1.1\r\n")
    finally:
        p.stop()


# --- TLS -------------------------------------------------------------------

def _server_ctx(server_cert, ca=None, sni_seen=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(ctx)
    if ca is not None:
        ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    if sni_seen is not None:
        ctx.sni_callback = lambda sslobj, name, c: sni_seen.append(name)
    return ctx


@pytest.fixture
def trusted(tls_files, monkeypatch):
    monkeypatch.setattr(runtime.worker.http_settings.socket, "ssl_trusted_certificate", str(tls_files / "ca.pem"))
    monkeypatch.setattr(runtime.worker.http_settings.socket, "ssl_verify_depth", 2)


def test_wss_without_verification(server_cert):
    sni = []
    p = Peer(ssl_context=_server_ctx(server_cert, sni_seen=sni))
    try:
        wb = new(timeout=2000)
        ok, err, res = wb.connect(p.url(scheme="wss"))
        assert (ok, err) == (1, None)
        wb.send_text("secure")
        assert wb.recv_frame() == ("secure", "text", None)
        wb.close()
    finally:
        p.stop()


def test_wss_verification_fails_without_trust(server_cert):
    p = Peer(ssl_context=_server_ctx(server_cert))
    try:
        ok, err, res = new(timeout=2000).connect("wss://localhost:%d/s" % p.port, ssl_verify=True)
        assert ok is None and err.startswith("ssl handshake failed: ")
    finally:
        p.stop()


def test_wss_verified_with_sni_from_server_name_and_host(server_cert, trusted):
    sni = []
    p = Peer(ssl_context=_server_ctx(server_cert, sni_seen=sni))
    try:
        assert new(timeout=2000).connect("wss://localhost:%d/s" % p.port, ssl_verify=True)[:2] == (1, None)
        assert new(timeout=2000).connect(p.url(scheme="wss"), ssl_verify=True,
                                         server_name="test.example")[:2] == (1, None)
        assert new(timeout=2000).connect(p.url(scheme="wss"), host="a.test.example")[:2] == (1, None)
        assert new(timeout=2000).connect(p.url(scheme="wss"), host="b.test.example",
                                         server_name="test.example")[:2] == (1, None)
        assert sni == ["localhost", "test.example", "a.test.example", "test.example"]
        assert "\r\nHost: b.test.example\r\n" in p.requests[-1]
    finally:
        p.stop()


def test_wss_client_certificate(server_cert, ca, tls_files, trusted):
    p = Peer(ssl_context=_server_ctx(server_cert, ca=ca))
    try:
        cert, err = ngx.ssl.parse_pem_cert((tls_files / "client.pem").read_text())
        assert err is None
        key, err = ngx.ssl.parse_pem_priv_key((tls_files / "client.key").read_text())
        assert err is None
        wb = new(timeout=2000)
        ok, err, res = wb.connect(p.url(scheme="wss"), ssl_verify=True, client_cert=cert, client_priv_key=key)
        assert (ok, err) == (1, None)
        wb.send_text("mtls")
        assert wb.recv_frame() == ("mtls", "text", None)
        wb.close()
        ok, err, res = new(timeout=2000).connect(p.url(scheme="wss"))
        # without a certificate the server refuses: at the handshake or right after it
        assert ok is None
    finally:
        p.stop()
