"""A small gevent WebSocket peer on 127.0.0.1 (or a unix socket) for client tests.

Each connection: read the request head (recorded in `peer.requests`), answer
with `respond(head) -> bytes` (a correct 101 by default), then run
`session(conn)` (an echo loop by default) where `conn` is a `RawConn`
offering the cosocket `receive(n)` / `send` calls, so frames go through
websocket.protocol on this side too.
"""
from __future__ import annotations

import base64
import hashlib
import re
import socket as stdsocket
import time

import gevent
from gevent import socket
from gevent.server import StreamServer

from websocket import protocol

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def request_key(head: str) -> str:
    m = re.search(r"(?im)^Sec-WebSocket-Key:\s*(.*?)\s*$", head)
    return m.group(1) if m else ""


def good_response(head: str, extra: str = "") -> bytes:
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n%s\r\n" % (accept_for(request_key(head)), extra)).encode()


class RawConn:
    """Exact-size reads over a gevent socket, with the cosocket return shapes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def settimeout(self, ms):
        self.sock.settimeout(ms / 1000.0)

    def receive(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except stdsocket.timeout:
                return None, "timeout", b""
            except OSError:
                chunk = b""
            if not chunk:
                data, self.buf = self.buf, b""
                return None, "closed", data
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data, None, None

    def read_head(self, limit=65536):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk or len(self.buf) > limit:
                return None
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head.decode("latin-1")

    def send(self, data):
        try:
            self.sock.sendall(bytes(data))
        except OSError as exc:
            return None, str(exc)
        return len(data), None


def echo_session(conn, peer):
    """Echo data frames as text/binary, answer pings, close back, record every frame."""
    while True:
        data, typ, err = protocol.recv_frame(conn, 1 << 24, peer.force_masking)
        peer.frames.append((data, typ, err))
        if data is None:
            return
        if typ == "close":
            protocol.send_frame(conn, True, protocol.OP_CLOSE, b"\x03\xe8" + b"bye", 125, False)
            return
        if typ == "ping":
            protocol.send_frame(conn, True, protocol.OP_PONG, data, 125, False)
        elif typ == "text":
            protocol.send_frame(conn, True, protocol.OP_TEXT, data, 1 << 24, peer.send_masked)
        elif typ == "binary":
            protocol.send_frame(conn, True, protocol.OP_BINARY, data, 1 << 24, peer.send_masked)


class Peer:
    def __init__(self, respond=None, session=None, ssl_context=None, unix_path=None,
                 force_masking=True, send_masked=False):
        self.respond = respond or (lambda head: good_response(head))
        self.session = session or echo_session
        self.force_masking = force_masking
        self.send_masked = send_masked
        self.requests: list = []
        self.frames: list = []
        self.connections = 0
        if unix_path:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(unix_path)
            listener.listen(16)
        else:
            listener = ("127.0.0.1", 0)
        kw = {"ssl_context": ssl_context} if ssl_context is not None else {}
        self.server = StreamServer(listener, self._handle, **kw)
        self.server.start()
        self.port = None if unix_path else self.server.server_port

    def url(self, path="/s", scheme="ws"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def _handle(self, sock, addr):
        self.connections += 1
        conn = RawConn(sock)
        try:
            head = conn.read_head()
            if head is None:
                return
            self.requests.append(head)
            reply = self.respond(head)
            if reply is None:
                return
            conn.send(reply)
            if reply.startswith(b"HTTP/1.1 101"):
                self.session(conn, self)
        except OSError:
            pass
        finally:
            sock.close()

    def stop(self):
        self.server.stop(timeout=0.1)


def wait_for(predicate, timeout=1.0):
    """Yield to the hub until predicate() is true (bounded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in %.1fs" % timeout)
        gevent.sleep(0.005)
