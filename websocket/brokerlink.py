"""The embedded channels backend: this process's one connection to the server's broker.

A reader greenlet reads the broker's records and hands every message to the
channels registry (`on_message`); writes are whole records under one lock.
When the connection breaks (the broker was restarted by the master) the link
connects again by itself, tells the registry the new epoch (`on_reset`) and
subscribes again to every channel the registry still holds.
"""
from __future__ import annotations

import itertools
import socket as _stdsocket
from typing import Callable, Dict, Iterable, Optional

import gevent
import gevent.socket
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from cosocket import brokerwire as wire
from cosocket import log

_CONNECT_TIMEOUT = 5.0
_RETRY_MAX = 1.0


class BrokerLink:
    """One process's connection to the embedded broker at a unix socket path."""

    name = "embedded"

    def __init__(self, path: str, on_message: Callable, on_reset: Callable, channels: Callable[[], Iterable[bytes]]):
        self.path = path
        self.on_message = on_message  # (name, kind, offset, data)
        self.on_reset = on_reset  # (new epoch): the broker changed (offsets start again)
        self.channels = channels  # -> the channel names this process is subscribed to
        self.sock = None
        self.epoch: Optional[str] = None
        self.ready = Event()
        self.lock = Semaphore()
        self.requests: Dict[int, AsyncResult] = {}
        self.ids = itertools.count(1)
        self.error = "not connected"
        self.reader = gevent.spawn(self._run)

    # -- connection --------------------------------------------------------------------
    def wait_ready(self, timeout: float = _CONNECT_TIMEOUT) -> Optional[str]:
        """None once connected, else the reason (after at most `timeout` seconds)."""
        if self.ready.is_set():
            return None
        self.ready.wait(timeout)
        return None if self.ready.is_set() else "channels broker unavailable: %s" % self.error

    def _run(self) -> None:
        delay = 0.05
        while True:
            sock = gevent.socket.socket(_stdsocket.AF_UNIX, _stdsocket.SOCK_STREAM)
            try:
                sock.connect(self.path)
            except OSError as exc:
                sock.close()
                self.error = "connect() to unix:%s failed (%s)" % (self.path, exc.strerror)
                gevent.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            delay = 0.05
            self._serve(sock)

    def _serve(self, sock) -> None:
        buf = bytearray()
        try:
            while True:
                data = sock.recv(262144)
                if not data:
                    self.error = "connection to the broker closed"
                    break
                buf += data
                for kind, body in wire.split(buf):
                    if kind == wire.MSG:
                        kind_, offset, name, data = wire.parse_message(body)
                        self.on_message(name, kind_, offset, data)
                    elif kind == wire.HIST_REPLY:
                        req, status, last, items = wire.parse_history_reply(body)
                        waiter = self.requests.pop(req, None)
                        if waiter is not None:
                            waiter.set((status, last, items))
                    elif kind == wire.WELCOME:
                        self._welcome(sock, body.decode("ascii"))
        except (OSError, ValueError) as exc:
            self.error = str(exc)
        finally:
            self.ready.clear()
            self.sock = None
            sock.close()
            for waiter in self.requests.values():
                waiter.set(None)
            self.requests.clear()
            log.error(log.WARN, "channels: lost the broker connection (%s), connecting again" % self.error)

    def _welcome(self, sock, epoch: str) -> None:
        changed = self.epoch is not None and epoch != self.epoch
        self.epoch = epoch
        self.sock = sock
        if changed:
            self.on_reset(epoch)
        with self.lock:
            for name in self.channels():
                sock.sendall(wire.name_record(b"S", name))
        self.ready.set()

    # -- requests ------------------------------------------------------------------------
    def _send(self, record: bytes) -> Optional[str]:
        sock = self.sock
        if sock is None:
            err = self.wait_ready()
            if err is not None:
                return err
            sock = self.sock
        try:
            with self.lock:
                sock.sendall(record)
        except OSError as exc:
            return "channels broker unavailable: %s" % exc.strerror
        return None

    def subscribe(self, name: bytes, timeout: float = _CONNECT_TIMEOUT) -> Optional[str]:
        """Subscribe this process to `name`; returns once the broker has it (a history request answered
        after it on the same connection), so a message published after this reaches this process."""
        err = self._send(wire.name_record(b"S", name))
        if err is None:
            _status, _last, _items, err = self.history(name, (1 << 64) - 1, timeout)
        return err

    def unsubscribe(self, name: bytes) -> None:
        if self.sock is not None:
            self._send(wire.name_record(b"U", name))

    def publish(self, name: bytes, kind: int, data: bytes) -> Optional[str]:
        """None once the record is handed to the broker's connection, else the error."""
        return self._send(wire.publish(kind, name, data))

    def history(self, name: bytes, since: int, timeout: float):
        """`(status, last, items, err)`: status 0 (the history covers `since`) or 1 (it does not)."""
        req = next(self.ids) & 0xFFFFFFFF
        waiter = self.requests[req] = AsyncResult()
        err = self._send(wire.history_request(req, since, name))
        if err is not None:
            self.requests.pop(req, None)
            return None, None, None, err
        try:
            reply = waiter.get(timeout=timeout)
        except gevent.Timeout:
            self.requests.pop(req, None)
            return None, None, None, "timeout"
        if reply is None:
            return None, None, None, "channels broker unavailable: %s" % self.error
        status, last, items = reply
        return status, last, items, None
