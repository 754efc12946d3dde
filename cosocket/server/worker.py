"""One worker process: a gevent hub serving the listening sockets it inherited.

Per listener an accept loop spawns one greenlet per connection; the
connection greenlet does the TLS handshake, then reads requests one after
another (keep-alive), routes each to its server and location, runs the
handler and writes the access log.  `worker_connections` bounds the open
client connections.  SIGQUIT drains (stop accepting, close idle keep-alive
connections, wait for the active ones up to `worker_shutdown_timeout`),
SIGTERM/SIGINT exit now, SIGUSR1 reopens the logs.
"""
from __future__ import annotations

import errno
import os
import signal
import socket as _stdsocket
import sys
import time
import traceback
import weakref
from typing import Callable, Dict, List, Optional

import gevent
import gevent.socket
import gevent.ssl
from gevent import GreenletExit
from gevent.event import Event
from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet

from .. import concurrency, log, pool, runtime
from . import handlers
from .accesslog import AccessLog
from .connection import Connection
from .request import Request
from .shared import setup_shared

_exiting_callbacks: List[Callable[[], None]] = []
_stopping_callbacks: List[Callable[[], None]] = []

#: Why this worker drains: None while serving, "reload" (retired by a reload: SIGUSR2 from the master)
#: or "stop" (the server stops: SIGQUIT).
exit_reason: Optional[str] = None


def on_exiting(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback()` once when this worker starts a graceful exit; returns a function that unregisters it."""
    _exiting_callbacks.append(callback)

    def cancel() -> None:
        try:
            _exiting_callbacks.remove(callback)
        except ValueError:
            pass
    return cancel


def on_stopping(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback()` once when the server stops gracefully (SIGQUIT), not when a reload retires this
    worker (its open connections then stay up until they end); returns a function that unregisters it.

    This is where a long-lived protocol tells its peers it goes away (WebSocket close 1001): on a reload
    the sessions are kept, as nginx keeps them.
    """
    _stopping_callbacks.append(callback)

    def cancel() -> None:
        try:
            _stopping_callbacks.remove(callback)
        except ValueError:
            pass
    return cancel


#: The Worker objects of this process (one in a server worker; tests may run more in one process).
_workers: "weakref.WeakSet" = weakref.WeakSet()


def current_requests():
    """The requests being served now by this process's workers (their handlers are running)."""
    for w in list(_workers):
        for conn in list(w.connections):
            r = conn.current
            if r is not None:
                yield r


def _run_callbacks(callbacks: List[Callable[[], None]]) -> None:
    for cb in list(callbacks):
        try:
            cb()
        except Exception:
            log.error(log.ERR, "worker exiting callback failed: " + traceback.format_exc().rstrip())


class Listener:
    """A bound listening socket with the servers that listen on it (built by the master)."""

    def __init__(self, conf, sock: _stdsocket.socket, servers: list, ssl_contexts: Optional[dict] = None):
        self.conf = conf
        self.key = conf.key
        self.sock = sock
        self.servers = servers
        self.vhosts = handlers.VirtualHosts(servers)
        for server in servers:
            for lc in server.listens:
                if lc.key == conf.key and lc.default_server:
                    self.vhosts.set_default(server)
        self.ssl_contexts = ssl_contexts or {}  # id(ServerConf) -> SSLContext
        self.ssl = conf.ssl

    def ssl_context(self):
        """The context of the default server (SNI may switch it during the handshake)."""
        ctx = self.ssl_contexts.get(id(self.vhosts.default))
        if ctx is None:
            for server in self.servers:
                ctx = self.ssl_contexts.get(id(server))
                if ctx is not None:
                    break
        return ctx


def _kill(conn: Connection) -> None:
    """Throw GreenletExit into a connection's greenlet from the loop (gevent's kill(block=False))."""
    glet = conn.greenlet
    if glet is not None and not glet.dead:
        gevent.get_hub().loop.run_callback(_throw_exit, glet, conn)


def _throw_exit(glet, conn: Connection) -> None:
    if glet.dead or conn.greenlet is not glet:  # that connection ended (its greenlet may serve another now)
        return
    if not glet:  # not started yet: its start callback runs first, then this again
        gevent.get_hub().loop.run_callback(_throw_exit, glet, conn)
        return
    glet.throw(GreenletExit)


#: Finished connection greenlets kept for the next connections (a new greenlet costs a Python data-stack
#: chunk mmap/munmap and ~8 us; a kept one parks in ~6 KB).
SPARE_GREENLETS = 64


def _serve_connections(conn: Connection) -> None:
    """A connection greenlet: serve `conn`, then wait among its worker's spares for the next connection."""
    worker = conn.worker
    spare = worker._spare
    hub = worker.hub
    me = getcurrent()
    while True:
        conn.run()
        conn = None
        me.gr_context = None  # the next connection starts with fresh context variables
        if worker.exiting or len(spare) >= SPARE_GREENLETS:
            return
        spare.append(me)
        conn = hub.switch()  # the accept loop hands over the next connection


class Worker:
    """The state of one worker process."""

    def __init__(self, main_conf, listeners: List[Listener], worker_id: int, worker_count: int):
        self.main_conf = main_conf
        self.listeners = listeners
        self.worker_id = worker_id
        self.worker_count = worker_count
        self.connections: set = set()
        self._gone = Event()  # set when a connection ends (the graceful exit waits on it)
        self.hub = gevent.get_hub()
        self.exiting = False
        self.counter = 0
        self.accept_greenlets: list = []
        self._tables: Dict[int, handlers.LocationTable] = {}
        self._access_logs: Dict[str, AccessLog] = {}
        self._warned_connections = False
        self._spare: list = []  # parked connection greenlets waiting for a connection
        _workers.add(self)

    def location_table(self, server) -> handlers.LocationTable:
        table = self._tables.get(id(server))
        if table is None:
            table = self._tables[id(server)] = handlers.LocationTable(server.locations)
        return table

    # -- access log ------------------------------------------------------------
    def write_access_log(self, r: Request) -> None:
        targets = r.settings.access_log
        if targets is None:
            paths = [os.path.join(self.main_conf.prefix, "logs", "access.log")]
        else:
            paths = [t.path for t in targets if t.path != "off"]
        if not paths:
            return
        line = r.access_log()
        for path in paths:
            al = self._access_logs.get(path)
            if al is None:
                al = self._access_logs[path] = AccessLog(path)
            al.write(line)

    def reopen_logs(self) -> None:
        log.error(log.NOTICE, "reopening logs")
        log.reopen()
        for al in self._access_logs.values():
            al.open()

    # -- accepting ---------------------------------------------------------------
    def _accept_loop(self, listener: Listener, gsock) -> None:
        limit = self.main_conf.worker_connections
        while not self.exiting:
            try:
                raw, addr = gsock.accept()
            except OSError as exc:
                if self.exiting or exc.errno in (errno.EBADF, errno.EINVAL):
                    return
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    log.error(log.CRIT, "accept4() failed (%d: %s)" % (exc.errno, os.strerror(exc.errno)))
                    gevent.sleep(0.5)
                continue
            if len(self.connections) >= limit:
                log.error(log.ALERT, "%d worker_connections are not enough" % limit)
                try:
                    raw.close()
                except OSError:
                    pass
                continue
            if listener.conf.unix is None:
                try:  # nginx's tcp_nodelay: small responses are not held back by Nagle
                    raw.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
                except OSError:
                    pass
            self.counter += 1
            conn = Connection(self, listener, raw, addr, self.counter)
            self.connections.add(conn)
            # a raw greenlet, not gevent.spawn: no Greenlet object, links or spawn tree per connection
            # (run() catches and logs its own errors); a finished one is reused when there is one
            spare = self._spare
            g = None
            while spare:
                g = spare.pop()
                if not g.dead:
                    break
                g = None
            if g is None:
                g = RawGreenlet(_serve_connections, self.hub)  # (a function: no bound method kept per greenlet)
            conn.greenlet = g
            self.hub.loop.run_callback(g.switch, conn)  # started from the loop, as gevent.spawn does

    def connection_ended(self, conn: Connection) -> None:
        """A connection's greenlet is ending: forget it and wake a graceful exit waiting for the last ones."""
        self.connections.discard(conn)
        if self.exiting:
            self._gone.set()

    def start_accepting(self) -> None:
        for listener in self.listeners:
            gsock = gevent.socket.socket(listener.sock.family, listener.sock.type, fileno=listener.sock.fileno())
            listener.gsock = gsock
            self.accept_greenlets.append(gevent.spawn(self._accept_loop, listener, gsock))

    def stop_accepting(self) -> None:
        for g in self.accept_greenlets:
            g.kill(block=False)
        self.accept_greenlets = []
        for listener in self.listeners:
            gsock = getattr(listener, "gsock", None)
            if gsock is not None:
                gsock.detach()  # the fd belongs to the stdlib socket, closed below
            try:
                listener.sock.close()
            except OSError:
                pass

    # -- exit --------------------------------------------------------------------
    def graceful_exit(self, reason: str = "stop") -> None:
        """SIGQUIT ("stop") or SIGUSR2 ("reload"): stop accepting, close idle connections, let the active
        ones finish.  `on_exiting` hooks run either way, `on_stopping` hooks only when the server stops
        (also when a stop comes while a reload already retires this worker)."""
        global exit_reason
        if self.exiting:
            if reason == "stop" and exit_reason == "reload":
                exit_reason = "stop"
                _run_callbacks(_stopping_callbacks)
            return
        log.error(log.NOTICE, "gracefully shutting down")
        self.exiting = True
        exit_reason = reason
        runtime.worker.exiting = True
        self.stop_accepting()
        for g in self._spare:  # the parked spare greenlets end (from the loop, as _kill)
            self.hub.loop.run_callback(g.throw, GreenletExit)
        self._spare = []
        _run_callbacks(_exiting_callbacks)
        if reason == "stop":
            _run_callbacks(_stopping_callbacks)
        for conn in list(self.connections):
            if conn.idle and conn.greenlet is not None:
                _kill(conn)
        timeout_ms = self.main_conf.worker_shutdown_timeout
        timeout = timeout_ms / 1000.0 if timeout_ms is not None else None
        # pending timers run now with premature = true; the worker exits once they are done too
        timers = gevent.spawn(concurrency.shutdown, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.connections:  # re-read: a connection accepted just before the stop is served too
            remaining = 1.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                break
            self._gone.clear()
            self._gone.wait(min(remaining, 1.0))
        if self.connections:
            for conn in list(self.connections):
                if conn.greenlet is not None and not conn.greenlet.dead:
                    token = runtime.current_request.set(conn.current or conn)
                    try:
                        log.error(log.INFO, "closing connection on worker shutdown timeout")
                    finally:
                        runtime.current_request.reset(token)
                    _kill(conn)
            gevent.sleep(0)
        timers.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self.finish(0)

    def fast_exit(self) -> None:
        """SIGTERM/SIGINT: exit now."""
        self.finish(0)

    def finish(self, code: int) -> None:
        log.error(log.NOTICE, "exiting")
        log.error(log.NOTICE, "exit")
        sys.stdout.flush()
        os._exit(code)

    def run(self) -> None:
        """Serve until a signal ends this worker (never returns)."""
        gevent.signal_handler(signal.SIGQUIT, lambda: gevent.spawn(self.graceful_exit, "stop"))
        gevent.signal_handler(signal.SIGUSR2, lambda: gevent.spawn(self.graceful_exit, "reload"))
        gevent.signal_handler(signal.SIGTERM, self.fast_exit)
        gevent.signal_handler(signal.SIGINT, self.fast_exit)
        gevent.signal_handler(signal.SIGUSR1, self.reopen_logs)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        self.start_accepting()
        while True:
            gevent.sleep(3600)


#: A worker's exit status when its init_worker_by_python failed (the master does not respawn it).
EXIT_INIT_FAILED = 3


def _call_init(target: str, what: str) -> bool:
    """Run an `init_*_by_python module:function` hook; False (and the error in the log) when it fails."""
    runtime.worker.phase = what[:-len("_by_python")]  # ngx.get_phase(): "init" or "init_worker"
    try:
        fn = handlers.load_function(target)
        fn()
    except Exception as exc:
        log.error(log.ERR, "%s error: %s" % (what, handlers.format_exception(exc)
                                            if not isinstance(exc, handlers.HandlerLoadError) else exc))
        return False
    finally:
        runtime.worker.phase = None
    return True


def setup_process(main_conf, worker_id: Optional[int], worker_count: int) -> None:
    """The per-process state a worker needs: runtime.worker, python_path, shared dicts, pools."""
    runtime.worker.id = worker_id
    runtime.worker.count = worker_count
    runtime.worker.exiting = False
    runtime.worker.main_conf = main_conf
    runtime.worker.http_settings = main_conf.http.settings
    handlers.apply_python_path(main_conf.python_path, main_conf.prefix)
    setup_shared(main_conf.http.shared_dicts)
    pool.reset_after_fork()


def worker_main(main_conf, listeners: List[Listener], worker_id: int, worker_count: int) -> None:
    """Entry of a forked worker process; never returns."""
    try:
        gevent.reinit()
        try:
            os.chdir(main_conf.prefix)
        except OSError:
            pass
        setup_process(main_conf, worker_id, worker_count)
        w = Worker(main_conf, listeners, worker_id, worker_count)
        if main_conf.init_worker_by_python and not _call_init(main_conf.init_worker_by_python,
                                                              "init_worker_by_python"):
            os._exit(EXIT_INIT_FAILED)
        w.run()
    except BaseException:
        log.error(log.ALERT, "worker process failed: " + traceback.format_exc().rstrip())
        os._exit(2)
    os._exit(0)


def serve_in_process(main_conf, listeners: List[Listener], worker_id: int = 0) -> Worker:
    """Serve `listeners` in this process's hub (tests and embedding); returns the started Worker."""
    setup_process(main_conf, worker_id, 1)
    w = Worker(main_conf, listeners, worker_id, 1)
    w.start_accepting()
    return w
