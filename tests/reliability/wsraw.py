"""A raw WebSocket client on a plain socket: exact bytes on the wire, for hostile-peer tests."""
from __future__ import annotations

import base64
import os
import socket
import struct
from typing import Optional, Tuple

KEY = base64.b64encode(b"0123456789abcdef").decode()


def upgrade_request(path: str = "/ws", key: Optional[str] = KEY, version: Optional[str] = "13",
                    upgrade: Optional[str] = "websocket", connection: Optional[str] = "Upgrade") -> bytes:
    """An upgrade request; a header given as None is left out."""
    lines = ["GET %s HTTP/1.1" % path, "Host: localhost"]
    for name, value in (("Upgrade", upgrade), ("Connection", connection),
                        ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", version)):
        if value is not None:
            lines.append("%s: %s" % (name, value))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def frame(opcode: int, payload: bytes = b"", fin: bool = True, mask: bool = True,
          declared_len: Optional[int] = None, rsv: int = 0) -> bytes:
    """One frame; `declared_len` lies about the payload length when given."""
    n = len(payload) if declared_len is None else declared_len
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


class RawWS:
    """A handshaken connection: send raw bytes or frames, read the server's (unmasked) frames."""

    def __init__(self, port: int, path: str = "/ws", timeout: float = 3.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(upgrade_request(path))
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 101:
            raise ConnectionError("no upgrade: %r" % head)

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def _until(self, delim: bytes) -> bytes:
        while delim not in self.buf:
            self._fill()
        i = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _n(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kw) -> None:
        self.sock.sendall(frame(opcode, payload, **kw))

    def recv_frame(self) -> Tuple[int, bytes]:
        """(opcode, payload) of the next server frame; ConnectionError when the server closed."""
        b0, b1 = self._n(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._n(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._n(8))[0]
        return b0 & 0x0F, self._n(n)

    def closed_by_server(self, timeout: float = 2.0) -> bool:
        """True when the server closes the TCP connection within `timeout` (frames before it are dropped)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()
