"""Connected socket pairs with a cosocket on one end, for stream-level tests."""
from __future__ import annotations

from gevent import socket

from cosocket.tcp import TCPSocket


def stream_pair(timeout_ms: int):
    """The body of a fixture: yields `(stream, peer)`, a cosocket TCPSocket with `timeout_ms` for every
    step and the plain gevent socket at the other end of a socketpair; both closed afterwards."""
    a, b = socket.socketpair()
    stream = TCPSocket.from_accepted(a, "unix")
    stream.settimeout(timeout_ms)
    yield stream, b
    a.close()
    b.close()
