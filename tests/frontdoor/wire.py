"""Send raw request bytes, then read and split whatever comes back: the outcome both servers are judged by."""
from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

#: How long the client waits for more bytes before it decides the server is done (and the connection open).
IDLE = 0.6


@dataclass(frozen=True)
class Outcome:
    """What a client saw: the statuses in order (0: an HTTP/0.9 bare body), whether the server closed,
    and for each echo response the body length its handler saw (None for a response not from the handler)."""

    statuses: Tuple[int, ...]
    closed: bool
    lengths: Tuple[Optional[int], ...] = field(default=())
    bodies: Tuple[bytes, ...] = field(default=(), compare=False)
    heads: Tuple[bytes, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return "statuses=%s closed=%s lengths=%s" % (list(self.statuses), self.closed, list(self.lengths))


_ECHO_LEN = re.compile(rb" len=(\d+)\n$")


def exchange(port: int, data: bytes, idle: float = IDLE, total: float = 8.0, pause_after: int = 0) -> Outcome:
    """Send `data` to 127.0.0.1:`port` (the first `pause_after` bytes, a short pause, then the rest),
    read until the server closes or stays silent for `idle` seconds, and split the responses."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    received = bytearray()
    closed = False
    try:
        try:
            if pause_after:
                sock.sendall(data[:pause_after])
                time.sleep(0.1)
                data = data[pause_after:]
            sock.sendall(data)
        except OSError:
            pass  # the server may close before it took everything: what it answered is still read
        deadline = time.monotonic() + total
        sock.settimeout(idle)
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    finally:
        sock.close()
    return split_responses(bytes(received), closed)


def split_responses(raw: bytes, closed: bool) -> Outcome:
    """The responses in `raw` (Content-Length, chunked, or to the close); bytes not starting with HTTP/
    are one HTTP/0.9 response (status 0)."""
    statuses: List[int] = []
    lengths: List[Optional[int]] = []
    bodies: List[bytes] = []
    heads: List[bytes] = []
    if raw and not raw.startswith(b"HTTP/"):
        return Outcome((0,), closed, (_echo_len(raw),), (raw,), (b"",))
    pos = 0
    while pos < len(raw):
        end = raw.find(b"\r\n\r\n", pos)
        if end < 0:
            statuses.append(-1)  # a truncated head
            lengths.append(None)
            break
        head = raw[pos:end]
        pos = end + 4
        status = int(head.split(b" ", 2)[1])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            n = int(headers[b"content-length"])
            body = raw[pos:pos + n]
            pos += n
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    pos = len(raw)
                    break
                size = int(raw[pos:eol].split(b";")[0], 16)
                pos = eol + 2
                if size == 0:
                    pos = raw.find(b"\r\n", pos) + 2 if raw.find(b"\r\n", pos) >= 0 else len(raw)
                    break
                body += raw[pos:pos + size]
                pos += size + 2
        elif status in (101, 204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = raw[pos:]
            pos = len(raw)
        statuses.append(status)
        lengths.append(_echo_len(body))
        bodies.append(body)
        heads.append(head)
    return Outcome(tuple(statuses), closed, tuple(lengths), tuple(bodies), tuple(heads))


def _echo_len(body: bytes) -> Optional[int]:
    m = _ECHO_LEN.search(body)
    return int(m.group(1)) if m else None
