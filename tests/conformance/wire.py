"""Crafted WebSocket bytes for the conformance tests, independent of websocket.protocol.

`frame(opcode, payload, ...)` builds any frame, legal or not; `RawWS` is a
blocking socket speaking raw frames to the real server; `read_frame(recv)`
and `read_frame_rsv(recv)` parse one frame from the other side; `Reader`
gives exact reads over a socket.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import struct

MASK_KEY = b"\x37\xfa\x21\x3d"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def mask(data: bytes, key: bytes) -> bytes:
    """XOR with the repeated 4-byte key (a slow, obviously right reference)."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, key=MASK_KEY,
          length=None) -> bytes:
    """One frame; `key=None` sends it unmasked, `length` overrides the announced length."""
    n = len(payload) if length is None else length
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    bit = 0x80 if key is not None else 0
    if n <= 125:
        head = bytes((first, bit | n))
    elif n <= 0xFFFF:
        head = bytes((first, bit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((first, bit | 127)) + struct.pack("!Q", n)
    if key is None:
        return head + payload
    return head + key + mask(payload, key)


def unmasked(opcode: int, payload: bytes = b"", **kw) -> bytes:
    """One frame as a server sends it (no mask); `kw` as for `frame`."""
    return frame(opcode, payload, key=None, **kw)


def close_body(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def accept_key(key: bytes) -> bytes:
    """The Sec-WebSocket-Accept value answering the client's Sec-WebSocket-Key `key`."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def header_values(head, name):
    """Every value of the header `name` (a str) in a request or response head, str or bytes like `head`."""
    pattern = r"(?im)^%s:\s*(.*?)\s*$" % name
    return re.findall(pattern.encode() if isinstance(head, bytes) else pattern, head)


def read_frame_rsv(recv_exact):
    """`(fin, rsv, opcode, payload, masked)` read through `recv_exact(n)` (raises EOFError at EOF);
    `rsv` is the 3-bit field."""
    b1, b2 = recv_exact(2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(8))[0]
    key = recv_exact(4) if b2 & 0x80 else None
    payload = recv_exact(n) if n else b""
    if key is not None:
        payload = mask(payload, key)
    return bool(b1 & 0x80), (b1 >> 4) & 0x7, b1 & 0x0F, payload, key is not None


def read_frame(recv_exact):
    """`(fin, opcode, payload, masked)` read through `recv_exact(n)` (raises EOFError at EOF)."""
    fin, _, opcode, payload, masked = read_frame_rsv(recv_exact)
    return fin, opcode, payload, masked


class Reader:
    """Exact reads from `sock`, starting with the bytes `buf` already read past a handshake."""

    def __init__(self, sock, buf: bytes = b""):
        self.sock = sock
        self.buf = buf

    def recv_exact(self, n: int) -> bytes:
        """The next `n` bytes; EOFError when the peer closes first."""
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(self.buf), n))
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_head(sock):
    """`(head, rest)`: the bytes up to the blank line ending an HTTP head, and what came after it;
    EOFError when the peer closes first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("no complete HTTP head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


class RawWS:
    """A raw client socket after a successful opening handshake with the server at `port`.

    `protocols` is sent as Sec-WebSocket-Protocol, `extensions` (a string or a list, one header each)
    as Sec-WebSocket-Extensions; `.head` is the response head, `.extensions` the extensions it
    agreed (None without the header).
    """

    def __init__(self, port: int, path: str = "/echo", timeout: float = 2.0, protocols=None, extensions=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "Sec-WebSocket-Protocol: %s\r\n" % protocols if protocols else ""
        offers = [] if extensions is None else [extensions] if isinstance(extensions, str) else extensions
        extra += "".join("Sec-WebSocket-Extensions: %s\r\n" % v for v in offers)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, port, key, extra)).encode())
        try:
            head, rest = read_head(self.sock)
        except EOFError:
            raise EOFError("no handshake response") from None
        self.reader = Reader(self.sock, rest)
        self.head = head.decode("latin-1")
        if not self.head.startswith("HTTP/1.1 101"):
            raise AssertionError(self.head)
        found = header_values(self.head, "Sec-WebSocket-Extensions")
        self.extensions = ", ".join(found) if found else None

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        return self.reader.recv_exact(n)

    def read_frame(self):
        """`(fin, opcode, payload, masked)` of the server's next frame."""
        return read_frame(self.recv_exact)

    def read_frame_rsv(self):
        """`(fin, rsv, opcode, payload)` of the server's next frame, which must be unmasked."""
        fin, rsv, opcode, payload, masked = read_frame_rsv(self.recv_exact)
        assert not masked
        return fin, rsv, opcode, payload

    def read_close(self):
        """Skip data frames up to the server's close frame: `(code or None, reason bytes)`."""
        while True:
            fin, opcode, payload, _ = self.read_frame()
            if opcode == 0x8:
                if len(payload) >= 2:
                    return struct.unpack("!H", payload[:2])[0], payload[2:]
                return None, payload

    def eof(self, timeout: float = 1.0) -> bool:
        """True when the server closes TCP within `timeout` (data before the EOF is dropped)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()
