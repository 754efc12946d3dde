"""Addresses on 127.0.0.1 that fail in a known way, for connect error tests.

    port = refused_port()           # nothing listens there: connect is refused
    with full_backlog() as port:    # a listener that never accepts, its backlog filled: connect times out
        ...
"""
from __future__ import annotations

import contextlib
import socket

import gevent

from tests.support.serverproc import free_port


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (free a moment ago), so a connect there is refused."""
    return free_port()


@contextlib.contextmanager
def full_backlog(fillers: int = 3):
    """Yield the port of a listener with backlog 0 that never accepts, its queue filled by `fillers`
    pending connects, so that a further connect waits until its timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    pending = []
    try:
        for _ in range(fillers):
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(listener.getsockname())
            except BlockingIOError:
                pass
            pending.append(f)
        gevent.sleep(0.05)
        yield listener.getsockname()[1]
    finally:
        for f in pending:
            f.close()
        listener.close()
