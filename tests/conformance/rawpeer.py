"""A raw WebSocket server on 127.0.0.1 (gevent) that sends crafted bytes to websocket.client.

    peer = RawPeer(script)        # script: bytes sent right after the 101 response
    ...client connects to peer.url() and talks...
    peer.frames                   # the client's frames: (fin, opcode, payload, masked)
    peer.client_closed_first      # the client closed TCP before we did
"""
from __future__ import annotations

import base64
import hashlib
import re
import socket as stdsocket

import gevent
import gevent.event
from gevent.server import StreamServer

from .wire import read_frame

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RawPeer:
    def __init__(self, script: bytes = b"", close_after=0.5, protocol=None, stay_open=False):
        self.script = script
        self.close_after = close_after  # seconds to wait for the client's frames
        self.protocol = protocol
        self.stay_open = stay_open  # never close TCP ourselves: the client must give up
        self.frames: list = []
        self.release = gevent.event.Event()
        self.client_closed_first = None
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
            key = re.search(rb"(?im)^Sec-WebSocket-Key:\s*(\S+)", head).group(1)
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            extra = b"Sec-WebSocket-Protocol: %s\r\n" % self.protocol.encode() if self.protocol else b""
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n" + extra + b"\r\n" + self.script)
            self._read_frames(sock, buf)
        finally:
            self.done.set()
            if self.stay_open:  # no FIN from us until stop() (the server closes it when we return)
                self.release.wait(5)
            sock.close()

    def _read_frames(self, sock, buf):
        state = {"buf": buf}

        def recv_exact(n):
            while len(state["buf"]) < n:
                chunk = sock.recv(65536)
                if not chunk:
                    raise EOFError
                state["buf"] += chunk
            data, state["buf"] = state["buf"][:n], state["buf"][n:]
            return data

        sock.settimeout(self.close_after)
        try:
            while True:
                f = read_frame(recv_exact)
                self.frames.append(f)
                if f[1] == 0x8:
                    break
        except (EOFError, OSError, stdsocket.timeout):
            self.client_closed_first = True
            return
        # the client's close came: it must now wait for our FIN, not close first
        sock.settimeout(0.05)
        try:
            self.client_closed_first = sock.recv(1) == b""
        except (stdsocket.timeout, OSError):
            self.client_closed_first = False

    def close_code(self):
        """The close code of the client's close frame (None without one)."""
        for fin, opcode, payload, masked in self.frames:
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
        return None

    def stop(self):
        self.release.set()
        self.server.stop(timeout=0.1)
