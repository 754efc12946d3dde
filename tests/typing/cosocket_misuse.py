"""Deliberate misuse of the cosocket API: mypy must report every marked line."""
from __future__ import annotations

from cosocket import ngx


def misuse() -> bytes:
    sock = ngx.socket.tcp()
    data = sock.receiveany(1024)
    data.startswith(b"x")  # E: the (data, err) tuple used as bytes
    line, err = sock.receive()  # E: receive returns three values
    sema, err = ngx.semaphore.new(1)
    sema.post(1)  # E: sema may be None (the (sema, err) contract)
    value, flags, stale = ngx.shared.cache.get("k")  # E: the zone may be None; get returns two values
    sock.send(None)  # E: nil is no data to send
    return data  # E: a tuple, not bytes
