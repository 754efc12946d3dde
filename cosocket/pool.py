"""Per-process keepalive pools for cosockets (lua-nginx-module's connection pools).

A pool is keyed by the `pool` option of `connect`, else `"host:port"` or
`"unix:/path"`.  It holds at most `size` idle connections, the most recently
parked one handed out first and the least recently parked one evicted when
a new one arrives at a full pool.  An idle connection leaves the pool as soon
as its peer closes it or sends anything (a gevent io watcher on its fd), or
when its idle timeout expires (0 = never).

`connections` counts the pool's open connections (in use and idle).  With a
`backlog`, at most `size` of them are open at a time and further connects
wait in a queue of `backlog` places, each wait bounded by the connect
timeout.  A pool with no connection left is freed, as in nginx.

In the server each worker process has its own pools: the worker calls
`reset_after_fork()` first thing after fork.
"""
from __future__ import annotations

import collections
import socket as _stdsocket
import ssl as _stdssl
import time
from typing import Dict, List, Optional, Tuple

import gevent
from gevent.event import Event

from . import log
from .log import DEBUG, ERR

_pools: Dict[str, "Pool"] = {}


class IdleConn:
    """A parked connection and what the next user of it needs to know."""

    __slots__ = ("sock", "reused", "peer", "peer_text", "tls_session", "pool", "_watcher", "_timer")

    def __init__(self, sock, reused: int, peer, peer_text: str, tls_session=None):
        self.sock = sock
        self.reused = reused
        self.peer = peer
        self.peer_text = peer_text
        self.tls_session = tls_session
        self.pool: Optional[Pool] = None
        self._watcher = None
        self._timer = None

    def _stop_watching(self) -> None:
        for watcher in (self._watcher, self._timer):
            if watcher is not None:
                try:
                    watcher.stop()
                    watcher.close()
                except Exception:  # noqa: BLE001 - a watcher of a dead loop (after fork)
                    pass
        self._watcher = self._timer = None


class Pool:
    """One connection pool (see the module doc)."""

    def __init__(self, key: str, size: int, backlog: Optional[int]):
        self.key = key
        self.size = size
        self.backlog = backlog  # None = no limit on open connections
        self.connections = 0
        self.idle: List[IdleConn] = []  # least recently parked first
        self.waiters: collections.deque = collections.deque()

    # --- taking connections ------------------------------------------------
    def take_idle(self) -> Optional[IdleConn]:
        """The most recently parked idle connection, or None (it stays counted)."""
        if not self.idle:
            if log.enabled(DEBUG):
                log.error(DEBUG, "lua tcp socket keepalive: connection pool empty")
            return None
        entry = self.idle.pop()
        entry._stop_watching()
        entry.pool = None
        if log.enabled(DEBUG):
            log.error(DEBUG, "lua tcp socket get keepalive peer: using connection fd:%d" % _fileno(entry.sock))
        return entry

    def acquire(self, timeout_ms: int, host: str, port: Optional[int]) -> Tuple[Optional[IdleConn], Optional[str]]:
        """Count one more connection, queueing when the backlog says so.

        -> (None, None): go and connect; (IdleConn, None): a connection parked
        while we waited, take it; (None, err): "too many waiting connect
        operations" or "timeout".
        """
        if self.backlog is None or self.connections < self.size:
            self.connections += 1
            return None, None
        if len(self.waiters) >= self.backlog:
            return None, "too many waiting connect operations"
        if log.enabled(DEBUG):
            log.error(DEBUG, 'lua tcp socket queue connect operation for connection pool "%s", connections: %d'
                      % (self.key, self.connections + len(self.waiters) + 1))
        event = Event()
        self.waiters.append(event)
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            left = deadline - time.monotonic()
            try:
                woken = event.wait(left) if left > 0 else event.is_set()
            except BaseException:
                # the waiting thread was killed: its place in the queue goes, a wake-up it got passes on
                self._withdraw(event)
                raise
            if not woken:
                try:
                    self.waiters.remove(event)
                except ValueError:
                    pass
                if _settings().log_errors:
                    where = "%s:%s" % (host, port) if port is not None else host
                    log.error(ERR, "lua tcp socket queued connect timed out, when trying to connect to %s" % where)
                return None, "timeout"
            entry = self.take_idle()
            if entry is not None:
                return entry, None
            if self.connections < self.size:
                self.connections += 1
                return None, None
            event.clear()
            self.waiters.appendleft(event)

    # --- giving connections back -------------------------------------------
    def release(self) -> None:
        """A counted connection was closed."""
        self.connections -= 1
        self._after_drop()

    def put(self, entry: IdleConn, counted: bool, timeout_ms: int) -> None:
        """Park `entry` (already checked clean); `counted`: its socket was counted at connect."""
        if not counted:
            self.connections += 1
        if len(self.idle) >= self.size:
            oldest = self.idle.pop(0)
            oldest._stop_watching()
            _close(oldest.sock)
            self.connections -= 1
        entry.pool = self
        self.idle.append(entry)
        loop = gevent.get_hub().loop
        fd = _fileno(entry.sock)
        if fd >= 0:
            watcher = loop.io(fd, 1)
            watcher.start(self._on_readable, entry)
            entry._watcher = watcher
        if timeout_ms and timeout_ms > 0:
            timer = loop.timer(timeout_ms / 1000.0)
            timer.start(self._on_idle_timeout, entry)
            entry._timer = timer
        self._wake()

    # --- idle watch (run in the hub: never block here) ------------------------
    def _on_readable(self, entry: IdleConn) -> None:
        sock = entry.sock
        try:
            sock.settimeout(0.0)
            if hasattr(sock, "_sslobj"):
                sock.recv(1)  # consumes TLS-level records such as session tickets
            else:
                sock.recv(1, _stdsocket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return  # a stale event
        except OSError as exc:
            if isinstance(exc, (_stdssl.SSLWantReadError, _stdssl.SSLWantWriteError)):
                return
        except Exception:  # noqa: BLE001 - whatever it is, the connection is not reusable
            pass
        if log.enabled(DEBUG):
            log.error(DEBUG, "lua tcp socket keepalive close handler: fd:%d" % _fileno(sock))
        self._drop_idle(entry)

    def _on_idle_timeout(self, entry: IdleConn) -> None:
        if log.enabled(DEBUG):
            log.error(DEBUG, "lua tcp socket keepalive max idle timeout")
        self._drop_idle(entry)

    def _drop_idle(self, entry: IdleConn) -> None:
        entry._stop_watching()
        try:
            self.idle.remove(entry)
        except ValueError:
            return
        entry.pool = None
        _close(entry.sock)
        self.connections -= 1
        self._after_drop()

    def _after_drop(self) -> None:
        if self.connections < 0:
            log.error(ERR, 'lua tcp socket connections count mismatched for connection pool "%s", '
                      "connections: %d, size: %d" % (self.key, self.connections, self.size))
            self.connections = 0
        if self.connections == 0 and not self.waiters and not self.idle:
            if _pools.get(self.key) is self:
                del _pools[self.key]
                if log.enabled(DEBUG):
                    log.error(DEBUG, 'lua tcp socket keepalive: free connection pool for "%s"' % self.key)
            return
        self._wake()

    def _withdraw(self, event: Event) -> None:
        try:
            self.waiters.remove(event)
        except ValueError:
            pass
        if event.is_set():
            self._wake()
        elif self.connections == 0 and not self.waiters and not self.idle:
            self._after_drop()

    def _wake(self) -> None:
        while self.waiters:
            event = self.waiters.popleft()
            if not event.is_set():
                event.set()
                return


def _settings():
    from .runtime import socket_settings
    return socket_settings()


def _fileno(sock) -> int:
    try:
        return sock.fileno()
    except (OSError, ValueError, AttributeError):
        return -1


def _close(sock) -> None:
    try:
        sock.close()
    except Exception:  # noqa: BLE001 - closing must not fail the caller
        pass


def get(key: str) -> Optional[Pool]:
    """The pool for `key`, or None."""
    return _pools.get(key)


def create(key: str, size: int, backlog: Optional[int]) -> Pool:
    """A new pool for `key` (replacing none: call only when get(key) is None)."""
    if log.enabled(DEBUG):
        log.error(DEBUG, "lua tcp socket connection pool size: %d, backlog: %d"
                  % (size, backlog if backlog is not None else -1))
        log.error(DEBUG, 'lua tcp socket keepalive create connection pool for key "%s"' % key)
    pool = Pool(key, size, backlog)
    _pools[key] = pool
    return pool


def pools() -> Dict[str, Pool]:
    """Every live pool by key (for tests and introspection)."""
    return dict(_pools)


def reset_after_fork() -> None:
    """Forget the parent's pools in a freshly forked worker (closing the inherited idle sockets)."""
    for pool in list(_pools.values()):
        for entry in pool.idle:
            entry._stop_watching()
            _close(entry.sock)
        pool.idle.clear()
        pool.waiters.clear()
    _pools.clear()
