"""An in-memory stand-in for a cosocket, for protocol unit tests.

It answers `receive(n)` with exactly n bytes gathered from the chunks it
was given (so a frame may arrive 1 byte at a time), and `(None, err,
partial)` once they run out; `send` records what was sent.
"""
from __future__ import annotations

from collections import deque


class FakeSocket:
    def __init__(self, data: bytes = b"", chunk: int = 0, eof_err: str = "closed", send_err: str | None = None):
        self.chunks = deque([data[i:i + chunk] for i in range(0, len(data), chunk)] if chunk else ([data] if data else []))
        self.eof_err = eof_err
        self.send_err = send_err
        self.sent: list = []
        self.receive_calls: list = []

    def receive(self, n):
        self.receive_calls.append(n)
        got = bytearray()
        while len(got) < n and self.chunks:
            chunk = self.chunks.popleft()
            need = n - len(got)
            got += chunk[:need]
            if len(chunk) > need:
                self.chunks.appendleft(chunk[need:])
        if len(got) < n:
            return None, self.eof_err, bytes(got)
        return bytes(got), None, None

    def send(self, data):
        if self.send_err:
            return None, self.send_err
        data = bytes(data)
        self.sent.append(data)
        return len(data), None

    def sent_bytes(self) -> bytes:
        return b"".join(self.sent)
