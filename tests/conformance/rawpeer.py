"""Raw WebSocket servers on 127.0.0.1 (gevent) that send crafted bytes to websocket.client.

    peer = RawPeer(script)        # script: bytes sent right after the 101 response
    ...client connects to peer.url() and talks...
    peer.frames                   # the client's frames: (fin, opcode, payload, masked)
    peer.client_closed_first      # the client closed TCP before we did

`HandshakePeer` is what every such server shares: the 101 answer, then reading
the client's frames until its close frame, EOF or a quiet `read_for` seconds.
"""
from __future__ import annotations

import socket as stdsocket

import gevent
import gevent.event
from gevent.server import StreamServer

from .wire import Reader, accept_key, header_values, read_frame_rsv, read_head


def peer_factory(cls):
    """The body of a fixture: yields `make(*args, **kw)` starting `cls` peers, then stops them all."""
    peers = []

    def make(*args, **kw):
        peer = cls(*args, **kw)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.stop()


class HandshakePeer:
    """A raw server answering one opening handshake with 101 (plus `response_headers`), then `script`."""

    def __init__(self, script: bytes, read_for: float):
        self.script = script
        self.read_for = read_for
        self.frames: list = []
        self.close_payload = None
        self.done = gevent.event.Event()
        self.server = StreamServer(("127.0.0.1", 0), self._handle)
        self.server.start()

    def url(self, path="/"):
        return "ws://127.0.0.1:%d%s" % (self.server.server_port, path)

    def response_headers(self, head: bytes) -> bytes:
        """Extra header lines of the 101 answering the request `head`."""
        return b""

    def record(self, fin, rsv, opcode, payload, masked) -> None:
        """Keep one of the client's frames in `frames`."""
        raise NotImplementedError

    def after_frames(self, sock, client_eof: bool) -> None:
        """Called once reading stops: `client_eof` when it stopped without a close frame."""

    def linger(self) -> None:
        """Called before our side closes TCP."""

    def _handle(self, sock, addr):
        try:
            try:
                head, rest = read_head(sock)
            except EOFError:
                return
            key = header_values(head, "Sec-WebSocket-Key")[0].split()[0]
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept_key(key) + b"\r\n" + self.response_headers(head)
                         + b"\r\n" + self.script)
            reader = Reader(sock, rest)
            sock.settimeout(self.read_for)
            try:
                while True:
                    fin, rsv, opcode, payload, masked = read_frame_rsv(reader.recv_exact)
                    self.record(fin, rsv, opcode, payload, masked)
                    if opcode == 0x8:
                        self.close_payload = payload
                        break
            except (EOFError, OSError, stdsocket.timeout):
                self.after_frames(sock, client_eof=True)
            else:
                self.after_frames(sock, client_eof=False)
        finally:
            self.done.set()
            self.linger()
            sock.close()

    def close_code(self):
        """The close code of the client's close frame (None without one)."""
        payload = self.close_payload
        return int.from_bytes(payload[:2], "big") if payload is not None and len(payload) >= 2 else None

    def stop(self):
        self.server.stop(timeout=0.1)


class RawPeer(HandshakePeer):
    """Answers with Sec-WebSocket-Protocol `protocol` (when given) and records `(fin, opcode, payload, masked)`."""

    def __init__(self, script: bytes = b"", close_after=0.5, protocol=None, stay_open=False):
        self.protocol = protocol
        self.stay_open = stay_open  # never close TCP ourselves: the client must give up
        self.release = gevent.event.Event()
        self.client_closed_first = None
        super().__init__(script, close_after)  # seconds to wait for the client's frames

    def response_headers(self, head):
        return b"Sec-WebSocket-Protocol: %s\r\n" % self.protocol.encode() if self.protocol else b""

    def record(self, fin, rsv, opcode, payload, masked):
        self.frames.append((fin, opcode, payload, masked))

    def after_frames(self, sock, client_eof):
        if client_eof:
            self.client_closed_first = True
            return
        # the client's close came: it must now wait for our FIN, not close first
        sock.settimeout(0.05)
        try:
            self.client_closed_first = sock.recv(1) == b""
        except (stdsocket.timeout, OSError):
            self.client_closed_first = False

    def linger(self):
        if self.stay_open:  # no FIN from us until stop() (the server closes it when we return)
            self.release.wait(5)

    def stop(self):
        self.release.set()
        super().stop()
