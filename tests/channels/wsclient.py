"""A minimal blocking WebSocket client for the channels tests: it reads only when asked to (a slow
subscriber is one that does not call recv), with a chosen receive buffer."""
from __future__ import annotations

import base64
import os
import socket
import struct
import time


class Client:
    def __init__(self, port: int, path: str, rcvbuf: int = 0, timeout: float = 10.0, wait_ready: bool = True,
                 greeting: bool = True, tls: bool = False, extensions: str = ""):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        if tls:
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, key, "Sec-WebSocket-Extensions: %s\r\n" % extensions if extensions else "")
                           ).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake: %r" % self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode("latin-1")
        self.rsv1 = False  # whether the last frame received had RSV1 (compressed) set
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("no upgrade: %r" % head)
        self.pid = int(self.recv_text().split()[1]) if greeting else None
        self.early = []  # the frames before "ready" (history replayed by attach)
        if wait_ready and greeting:
            self.early = self.texts_until(lambda t: t == "ready" or t.startswith("error"))
            if self.early[-1] != "ready":
                raise ConnectionError(self.early[-1])
            self.early.pop()

    def _need(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """(opcode, payload) of the next frame."""
        b0, b1 = self._need(2)
        self.rsv1 = bool(b0 & 0x40)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack(">H", self._need(2))
        elif n == 127:
            (n,) = struct.unpack(">Q", self._need(8))
        assert not b1 & 0x80, "a server frame must not be masked"
        return b0 & 0x0F, self._need(n)

    def recv_text(self) -> str:
        op, payload = self.recv_frame()
        assert op == 1, "expected a text frame, got opcode %d: %r" % (op, payload[:80])
        if self.rsv1:  # compressed (the tests offer server_no_context_takeover: each message on its own)
            import zlib
            payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        return payload.decode("utf-8")

    def send_text(self, text: str) -> None:
        data = text.encode("utf-8")
        key = os.urandom(4)
        n = len(data)
        head = bytes((0x81, 0x80 | n)) if n < 126 else struct.pack(">BBH", 0x81, 0x80 | 126, n)
        self.sock.sendall(head + key + bytes(b ^ key[i % 4] for i, b in enumerate(data)))

    def texts_until(self, predicate, limit: int = 100000, timeout: float = 10.0) -> list:
        """Text frames received until one satisfies `predicate` (that one included)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < limit and time.monotonic() < deadline:
            text = self.recv_text()
            out.append(text)
            if predicate(text):
                return out
        raise AssertionError("no matching frame among %d: %r" % (len(out), out[-5:]))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
