"""Raw permessage-deflate peers for the conformance tests: crafted compressed frames both ways.

`DeflateWS` is a blocking raw client offering extensions to the real server;
`DeflatePeer` is a raw gevent server answering websocket.client's handshake
with a chosen Sec-WebSocket-Extensions response, then sending crafted bytes.
`deflate(data, bits)` / `Inflater(bits)` are plain zlib references, independent
of websocket.deflate.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import zlib

import gevent
import gevent.event
from gevent.server import StreamServer

from .wire import read_frame

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TAIL = b"\x00\x00\xff\xff"


def deflate(data: bytes, bits: int = 15, compressor=None) -> bytes:
    """A compressed message payload (raw deflate, sync flush, tail stripped); `compressor` keeps context."""
    c = compressor or zlib.compressobj(6, zlib.DEFLATED, -max(bits, 9))
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


class Inflater:
    """A reference receiver: one zlib inflater across messages (context takeover) or one per message."""

    def __init__(self, bits: int = 15, takeover: bool = True):
        self.bits = bits
        self.takeover = takeover
        self.d = zlib.decompressobj(-bits)

    def message(self, payload: bytes) -> bytes:
        if not self.takeover:
            self.d = zlib.decompressobj(-self.bits)
        return self.d.decompress(payload + TAIL)


class DeflateWS:
    """A raw client after an opening handshake offering `extensions` (None: no header)."""

    def __init__(self, port: int, path: str = "/echo", extensions=None, timeout: float = 2.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join("Sec-WebSocket-Extensions: %s\r\n" % v for v in
                        ([] if extensions is None else [extensions] if isinstance(extensions, str) else extensions))
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, port, key, extra)).encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("no handshake response")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        if not self.head.startswith("HTTP/1.1 101"):
            raise AssertionError(self.head)
        found = re.findall(r"(?im)^Sec-WebSocket-Extensions:\s*(.*?)\s*$", self.head)
        self.extensions = ", ".join(found) if found else None

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(self.buf), n))
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_frame_rsv(self):
        """`(fin, rsv, opcode, payload)` of the server's next frame (rsv as the 3-bit field)."""
        first = self.recv_exact(1)
        self.buf = first + self.buf
        fin, opcode, payload, masked = read_frame(self.recv_exact)
        assert not masked
        return fin, (first[0] >> 4) & 0x7, opcode, payload

    def read_close(self):
        """Skip data frames up to the server's close frame: its code (or None)."""
        while True:
            fin, rsv, opcode, payload = self.read_frame_rsv()
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None

    def eof(self, timeout: float = 1.0) -> bool:
        """True when the server closes TCP within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


class DeflatePeer:
    """A raw server answering with `extensions` (None: no header), then sending `script`.

    `request_extensions` is what the client offered; `frames` the client's
    frames as `(fin, rsv, opcode, payload)`, read until its close frame or EOF.
    """

    def __init__(self, extensions=None, script: bytes = b"", read_for: float = 0.5):
        self.extensions = extensions
        self.script = script
        self.read_for = read_for
        self.request_extensions = None
        self.frames: list = []
        self.done = gevent.event.Event()
        self.server = StreamServer(("127.0.0.1", 0), self._handle)
        self.server.start()

    def url(self, path="/"):
        return "ws://127.0.0.1:%d%s" % (self.server.server_port, path)

    def _handle(self, sock, addr):
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            offered = re.findall(rb"(?im)^Sec-WebSocket-Extensions:\s*(.*?)\s*$", head)
            self.request_extensions = b", ".join(offered).decode() if offered else None
            key = re.search(rb"(?im)^Sec-WebSocket-Key:\s*(\S+)", head).group(1)
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            extra = b"" if self.extensions is None else b"Sec-WebSocket-Extensions: %s\r\n" % self.extensions.encode()
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n" + extra + b"\r\n" + self.script)
            state = {"buf": buf}

            def recv_exact(n):
                while len(state["buf"]) < n:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise EOFError
                    state["buf"] += chunk
                data, state["buf"] = state["buf"][:n], state["buf"][n:]
                return data

            sock.settimeout(self.read_for)
            try:
                while True:
                    first = recv_exact(1)
                    state["buf"] = first + state["buf"]
                    fin, opcode, payload, masked = read_frame(recv_exact)
                    self.frames.append((fin, (first[0] >> 4) & 7, opcode, payload))
                    if opcode == 0x8:
                        break
            except (EOFError, OSError, socket.timeout):
                pass
        finally:
            self.done.set()
            sock.close()

    def close_code(self):
        for fin, rsv, opcode, payload in self.frames:
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
        return None

    def stop(self):
        self.server.stop(timeout=0.1)
