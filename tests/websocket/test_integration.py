"""Client and server handlers talking through the real prefork server (ports of upstream's t/cs.t, t/limits.t)."""
import http.client
import json
import re
import shutil
import time
import urllib.parse
from pathlib import Path

import gevent
import pytest

from tests.support.serverproc import ServerProcess, free_port
from websocket import client

from .peer import accept_for

APPS = Path(__file__).resolve().parent / "apps"


def _locations(names):
    return "\n".join("        location = /%s { content_by_python_file %s/%s.py; }" % (n, APPS, n) for n in names)


CONF = """
worker_processes 1;
error_log logs/error.log debug;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    lua_ssl_trusted_certificate {tls}/ca.pem;
    lua_ssl_verify_depth 2;
    server {
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{sslport} ssl;
        server_name localhost test.example;
        ssl_certificate {tls}/server.pem;
        ssl_certificate_key {tls}/server.key;
%(locations)s
        location = /c_untrusted {
            lua_ssl_trusted_certificate {tls}/other_ca.pem;
            content_by_python_file %(apps)s/c_info.py;
        }
        location = /s {
            content_by_python_file {root}/conf/examples/synopsis.py;
        }
    }
    server {
        listen 127.0.0.1:{mtlsport} ssl;
        server_name localhost;
        ssl_certificate {tls}/server.pem;
        ssl_certificate_key {tls}/server.key;
        ssl_client_certificate {tls}/ca.pem;
        ssl_verify_client on;
%(mtls_locations)s
    }
    server {
        listen 127.0.0.1:{export};
        server_name localhost;
        location = /s { content_by_python_file %(apps)s/s_hello.py; }
        location = /c { content_by_python_file {root}/conf/examples/client.py; }
    }
}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory, tls_files):
    import trustme
    trustme.CA().cert_pem.write_to_path(str(tls_files / "other_ca.pem"))
    prefix = tmp_path_factory.mktemp("wsprefix")
    (prefix / "certs").mkdir()
    for name in ("client.pem", "client.key"):
        shutil.copy(tls_files / name, prefix / "certs" / name)
    names = sorted(p.stem for p in APPS.glob("*.py"))
    body = CONF % {"locations": _locations(names), "apps": APPS, "mtls_locations": _locations(["s_echo", "s_info"])}
    ports = {"sslport": free_port(), "mtlsport": free_port(), "export": free_port(), "tls": str(tls_files)}
    server = ServerProcess(prefix, body, fmt=ports)
    server.ports = ports
    server.start()
    yield server
    server.stop()


def get(srv, path, port=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port or srv.port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.read().decode("utf-8")
    finally:
        conn.close()


def q(**args):
    return "?" + urllib.parse.urlencode(args, doseq=True)


class Log:
    """The part of the server's error log written since it was created."""

    def __init__(self, srv):
        self.srv = srv
        self.start = len(srv.error_log())

    def text(self):
        return self.srv.error_log()[self.start:]

    def wait(self, *needles, timeout=2.0):
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if all(n in text for n in needles):
                return text
            if time.monotonic() > deadline:
                missing = [n for n in needles if n not in text]
                raise AssertionError("not in the error log: %r\n---\n%s" % (missing, text[-3000:]))
            time.sleep(0.02)


# --- frames between a client handler and a server handler --------------------

def test_text_frame(srv):
    log = Log(srv)
    assert get(srv, "/c_hello") == "1: received: 你好, WebSocket! (text)\n2: received: copy: 你好, WebSocket! (text)\n"
    text = log.wait("recv_frame: mask bit: 0", "recv_frame: mask bit: 1")
    assert "[error]" not in text and "[warn]" not in text


def test_binary_frame(srv):
    body = get(srv, "/c_hello" + q(s="/s_hello?kind=binary"))
    assert body == "1: received: 你好, WebSocket! (binary)\n2: received: copy: 你好, WebSocket! (binary)\n"


def test_close_without_body(srv):
    log = Log(srv)
    assert get(srv, "/c_close") == "received close: : nil\n"
    log.wait("received: close: : nil")


def test_close_with_status_and_reason(srv):
    log = Log(srv)
    path = "/c_close" + q(s="/s_close?" + urllib.parse.urlencode({"code": 1000, "msg": "server, let's close!"}),
                          code=1001, msg="client, let's close!")
    assert get(srv, path) == "received close: server, let's close!: 1000\n"
    log.wait("received: close: client, let's close!: 1001")


@pytest.mark.parametrize("call", ["close", "close_only"])
def test_close_call(srv, call):
    log = Log(srv)
    assert get(srv, "/c_close" + q(call=call)) == "received close: : nil\nsuccessfully closed the TCP connection\n"
    log.wait("received: close: : nil", "sending the close frame")


@pytest.mark.parametrize("op,msg,expected,back", [
    ("ping", None, "received ping: : nil", "received: pong: : nil"),
    ("ping", "hello", "received ping: hello: nil", "received: pong: hello: nil"),
    ("pong", None, "received pong: : nil", "received: ping: ping back: nil"),
    ("pong", "hi", "received pong: hi: nil", "received: ping: ping back: nil"),
])
def test_ping_pong(srv, op, msg, expected, back):
    log = Log(srv)
    args = {"op": op}
    if msg:
        args["msg"] = msg
    assert get(srv, "/c_ping" + q(**args)) == expected + "\n"
    log.wait(back)


@pytest.mark.parametrize("mode", ["set", "opt"])
def test_client_recv_timeout(srv, mode):
    log = Log(srv)
    assert get(srv, "/c_timeout" + q(mode=mode)) == (
        "failed to receive 1st frame: failed to receive the first 2 bytes: timeout\n"
        "2: received: 你好, WebSocket! (text)\n")
    log.wait("lua tcp socket read timed out")


@pytest.mark.parametrize("mode", ["set", "ctor"])
def test_server_recv_timeout(srv, mode):
    log = Log(srv)
    assert get(srv, "/c_slow_send" + q(mode=mode)) == "ok\n"
    log.wait("failed to receive 1st frame: failed to receive the first 2 bytes: timeout",
             "2: received: 你好, WebSocket! (text)", "lua tcp socket read timed out")


def test_set_keepalive_reuse(srv):
    log = Log(srv)
    assert get(srv, "/c_reuse") == ("new connection\nreceived: hello 1 (text)\n"
                                    "connection reused\nreceived: hello 2 (text)\n"
                                    "connection reused\nreceived: hello 3 (text)\n")
    text = log.wait("recv_frame: mask bit: 0", "recv_frame: mask bit: 1")
    assert "[error]" not in text and "[warn]" not in text


def test_pool_option(srv):
    log = Log(srv)
    assert get(srv, "/c_pool") == "received: hello websocket (text)\n"
    # the pool is created once per worker: the first run logs it
    assert 'create connection pool for key "my_conn_pool"' in srv.error_log()
    assert "[error]" not in log.text()


def test_masked_server_frames(srv):
    log = Log(srv)
    body = get(srv, "/c_hello" + q(s="/s_hello?masked=1"))
    assert body == "1: received: 你好, WebSocket! (text)\n2: received: copy: 你好, WebSocket! (text)\n"
    lines = [l for l in log.wait("recv_frame: mask bit: 1").splitlines() if "recv_frame: mask bit" in l]
    # the client (request /c_hello) saw masked frames
    assert any("mask bit: 1" in l and "GET /c_hello" in l for l in lines)
    assert not any("mask bit: 0" in l for l in lines)


def test_unmasked_client_frames(srv):
    log = Log(srv)
    body = get(srv, "/c_hello" + q(unmasked=1))
    assert re.match(r"1: received: 你好, WebSocket! \(text\)\n"
                    r"(failed to receive 2nd frame: failed to receive the first 2 bytes: (closed|connection reset by peer)"
                    r"|failed to send frame: failed to send frame: .*)\n$", body), body
    log.wait("recv_frame: mask bit: 0", "failed to receive a frame: frame unmasked")


def test_bad_close_status_code(srv):
    log = Log(srv)
    assert get(srv, "/c_recv_once") == "failed to receive: failed to receive the first 2 bytes: closed\n"
    log.wait("failed to send close: bad status code")


# --- the handshake request and response --------------------------------------

def info(srv, path="/c_info", **args):
    body = get(srv, path + q(**args))
    head, sep, rest = body.partition("\n--\n")
    assert sep, body
    return head, json.loads(rest)


def test_default_host_and_response_head(srv):
    head, report = info(srv)
    assert head.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert "\r\nUpgrade: websocket\r\n" in head
    assert re.search(r"(?im)^connection: upgrade\r?$", head)
    assert "content-type" not in head.lower()
    assert report["host"] == "127.0.0.1:%d" % srv.port
    assert report["headers"]["sec-websocket-version"] == "13"


def test_custom_headers(srv):
    log = Log(srv)
    _, report = info(srv, h=["a-header: a header value", "another-header: another header value",
                             "yet-another-header: yet another header value"])
    assert report["headers"]["a-header"] == "a header value"
    assert report["headers"]["yet-another-header"] == "yet another header value"
    log.wait("a-header = a header value", "another-header = another header value")


@pytest.mark.parametrize("host", ["client.test", "client.test:8080"])
def test_host_header(srv, host):
    log = Log(srv)
    _, report = info(srv, host=host)
    assert report["host"] == host
    log.wait("host: <%s>" % host)


def test_origin(srv):
    assert info(srv, origin="test.com")[1]["headers"]["origin"] == "test.com"


@pytest.mark.parametrize("protocols,lst", [("json", False), ("xml,json", True)])
def test_protocols(srv, protocols, lst):
    args = {"protocols": protocols}
    if lst:
        args["list"] = 1
    head, report = info(srv, **args)
    assert report["headers"]["sec-websocket-protocol"] == protocols
    assert "Sec-WebSocket-Protocol: %s\r\n" % protocols in head + "\r\n"


def test_custom_key(srv):
    head, report = info(srv, key="y7KXwBSpVrxtkR0O+bQt+Q==")
    assert report["headers"]["sec-websocket-key"] == "y7KXwBSpVrxtkR0O+bQt+Q=="
    assert "Sec-WebSocket-Accept: %s" % accept_for("y7KXwBSpVrxtkR0O+bQt+Q==") in head


def test_response_head_with_custom_header(srv):
    head, _ = info(srv, s="/s_info?custom_header=1")
    assert re.match(r"^HTTP/1\.1 101 Switching Protocols\r\n.*X-My-Custom-Header: test", head, re.S)


def test_response_head_then_connection_reused(srv):
    assert get(srv, "/c_head_reused") == ("received text frame: first connection\n"
                                          "received text frame: reused connection\n")


# --- wss ------------------------------------------------------------------

def test_wss_without_verification(srv):
    head, report = info(srv, scheme="wss", port=srv.ports["sslport"])
    assert head.startswith("HTTP/1.1 101")
    assert report["uri"] == "/s_info"


def test_wss_with_verification(srv):
    _, report = info(srv, scheme="wss", port=srv.ports["sslport"], verify=1)
    assert report["host"] == "127.0.0.1:%d" % srv.ports["sslport"]


def test_wss_verification_failures(srv):
    body = get(srv, "/c_untrusted" + q(scheme="wss", port=srv.ports["sslport"], verify=1))
    assert body.startswith("failed to connect: ssl handshake failed: ")
    body = get(srv, "/c_info" + q(scheme="wss", port=srv.ports["sslport"], verify=1, server_name="wrong.example"))
    assert body == "failed to connect: ssl handshake failed: certificate host mismatch\n"


@pytest.mark.parametrize("args,host,sni", [
    ({"server_name": "test.example"}, None, "test.example"),
    ({"host": "test.example"}, "test.example", "test.example"),
    ({"host": "client.test", "server_name": "test.example"}, "client.test", "test.example"),
    ({"host": "test.example:8443"}, "test.example:8443", "test.example:8443"),
])
def test_wss_sni(srv, args, host, sni):
    _, report = info(srv, scheme="wss", port=srv.ports["sslport"], **args)
    assert report["sni"] == sni
    assert report["host"] == (host or "127.0.0.1:%d" % srv.ports["sslport"])


def test_wss_client_certificate(srv):
    _, report = info(srv, scheme="wss", port=srv.ports["mtlsport"], verify=1, mtls=1)
    assert report["client_verify"] == "SUCCESS"
    body = get(srv, "/c_info" + q(scheme="wss", port=srv.ports["mtlsport"], verify=1))
    assert body.startswith("failed to connect: ")


# --- limits ----------------------------------------------------------------

def test_client_max_send_len(srv):
    assert get(srv, "/c_limits" + q(max_send_len=200, sizes="200,201")) == (
        "sent a frame of len 200\nreceived text frame of len 200\n"
        "failed sending a frame of len 201: payload too big\n")


def test_client_max_recv_len(srv):
    log = Log(srv)
    assert get(srv, "/c_limits" + q(max_recv_len=200, sizes="200,201")) == (
        "sent a frame of len 200\nreceived text frame of len 200\n"
        "sent a frame of len 201\nfailed receiving frame: exceeding max payload len\n")
    log.wait("received text frame of len 201")


def test_server_max_send_len(srv):
    log = Log(srv)
    body = get(srv, "/c_limits" + q(srv="max_send_len=250&pad=" + "x" * 50, sizes="200,201"))
    assert body.startswith("sent a frame of len 200\nreceived text frame of len 250\nsent a frame of len 201\n")
    log.wait("failed sending frame: payload too big")


def test_server_max_recv_len(srv):
    log = Log(srv)
    body = get(srv, "/c_limits" + q(srv="max_recv_len=300", sizes="300,301"))
    assert body.startswith("sent a frame of len 300\nreceived text frame of len 300\nsent a frame of len 301\n")
    log.wait("failed receiving frame: exceeding max payload len")


def test_default_max_payload_len_65535(srv):
    log = Log(srv)
    body = get(srv, "/c_limits" + q(max_send_len=70000, max_recv_len=70000, sizes="65535,65536"))
    assert body.startswith("sent a frame of len 65535\nreceived text frame of len 65535\nsent a frame of len 65536\n")
    log.wait("failed receiving frame: exceeding max payload len")


# --- the seed's examples (conf/examples) --------------------------------------

def _synopsis_client(srv):
    wb, err = client.new(timeout=2000)
    ok, err, res = wb.connect(srv.url("/s"))
    assert (ok, err) == (1, None)
    return wb


def test_synopsis_text_then_replies(srv):
    log = Log(srv)
    result = {}

    def run():
        wb = _synopsis_client(srv)
        wb.send_text("hi there")
        result["frames"] = [wb.recv_frame() for _ in range(3)]
    gevent.spawn(run).join(5)
    assert result["frames"] == [("Hello world", "text", None), (b"blah blah blah...", "binary", None),
                                ("enough, enough!", "close", 1000)]
    log.wait("received a frame of type text and payload hi there")


def test_synopsis_close_and_ping(srv):
    log = Log(srv)
    result = {}

    def run():
        wb = _synopsis_client(srv)
        wb.send_close(1001, "going")
        result["close"] = wb.recv_frame()
        wb = _synopsis_client(srv)
        wb.send_ping(b"are you there")
        result["ping"] = [wb.recv_frame() for _ in range(2)]
    gevent.spawn(run).join(5)
    assert result["close"] == ("enough, enough!", "close", 1000)
    assert result["ping"] == [(b"are you there", "pong", None), ("Hello world", "text", None)]
    log.wait("closing with status code 1001 and message going")


def test_client_example(srv):
    assert get(srv, "/c", port=srv.ports["export"]) == "received: 你好, WebSocket! (text): nil\n"


def test_server_handshake_errors(srv):
    """Plain HTTP to a WebSocket location: upstream's error strings, logged by the handler."""
    log = Log(srv)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", "/s_hello")
        try:
            conn.getresponse().read()
        except (http.client.HTTPException, OSError):
            pass  # 444 closes the connection without a response
    finally:
        conn.close()
    log.wait('failed to new websocket: bad "upgrade" request header: nil')


# --- raw requests: the server's handshake on the wire (upstream t/sanity.t) ----

def raw_exchange(srv, request: bytes, wait=0.3):
    import socket
    with socket.create_connection(("127.0.0.1", srv.port), timeout=2) as s:
        s.sendall(request)
        s.settimeout(wait)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass  # closed with unread data: the kernel resets
    return out


HANDSHAKE = (b"GET /s_echo HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Protocol: chat\r\n"
             b"Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n")


def test_server_handshake_response_on_the_wire(srv):
    from .test_protocol import KEY, wire
    out = raw_exchange(srv, HANDSHAKE + wire(1, b"hello", key=KEY) + wire(8, b"\x03\xe8", key=KEY))
    head, _, frames = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 101 Switching Protocols"
    fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    assert fields["upgrade"] == "websocket"
    assert fields["connection"].lower() == "upgrade"
    assert fields["sec-websocket-accept"] == "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
    assert fields["sec-websocket-protocol"] == "chat"
    assert "content-type" not in fields and "content-length" not in fields
    # unmasked frames from the server: the echo, then the close reply
    assert frames == wire(1, b"hello") + wire(8, b"\x03\xe8bye")


def test_server_rejects_oversized_frame_before_reading_it(srv):
    from .test_protocol import KEY, wire
    log = Log(srv)
    raw_exchange(srv, HANDSHAKE.replace(b"/s_echo", b"/s_echo?verbose=1") + wire(1, b"a" * 65536, key=KEY))
    log.wait("failed receiving frame: exceeding max payload len")


@pytest.mark.parametrize("change,err", [
    ((b"Upgrade: websocket\r\n", b""), 'bad "upgrade" request header: nil'),
    ((b"Upgrade: websocket", b"Upgrade: h2c"), 'bad "upgrade" request header: h2c'),
    ((b"Connection: Upgrade", b"Connection: keep-alive"), 'bad "connection" request header'),
    ((b"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n", b""), 'bad "sec-websocket-key" request header'),
    ((b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8"), 'bad "sec-websocket-version" request header'),
    ((b"HTTP/1.1", b"HTTP/1.0"), "bad http version"),
])
def test_server_handshake_errors_on_the_wire(srv, change, err):
    log = Log(srv)
    request = HANDSHAKE.replace(b"/s_echo", b"/s_hello").replace(*change)
    out = raw_exchange(srv, request)
    assert out == b""  # the handler answers 444: the connection closes without a response
    log.wait("failed to new websocket: " + err)


def test_firefox_connection_header(srv):
    request = HANDSHAKE.replace(b"Connection: Upgrade", b"Connection: keep-alive, Upgrade").replace(
        b"x3JJHMbDL1EzLkh9GBhXDw==", b"05EiFj8mhoZ5F/oFE3Tyeg==")
    out = raw_exchange(srv, request, wait=0.1)
    assert out.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: tBNO4O+F4DrQyajB62pvtRNU8LM=\r\n" in out
