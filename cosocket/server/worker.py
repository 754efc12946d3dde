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

from .. import deadlines, log, resolver, runtime, sslverify
from . import handlers, http
from .request import QuietReads, Request, setup_shared

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


class Connection:
    """One client connection and its keep-alive loop."""

    # slots: one per idle WebSocket; "__dict__" (created only when used) takes anything else
    __slots__ = ("worker", "listener", "raw", "number", "requests", "idle", "current", "greenlet", "sock", "ssl",
                 "ssl_server_name", "ssl_client_verify", "ssl_verify_code", "ssl_protocol", "ssl_cipher",
                 "head_deadline", "remote_addr", "_local", "peer",
                 "__dict__", "__weakref__")

    def __init__(self, worker: "Worker", listener: Listener, raw, addr, number: int):
        self.worker = worker
        self.listener = listener
        self.raw = raw
        self.number = number
        self.requests = 0
        self.idle = False
        self.current: Optional[Request] = None
        self.greenlet = None
        self.sock = None
        self.ssl = False
        self.ssl_server_name: Optional[str] = None
        self.ssl_client_verify = "NONE"
        self.ssl_verify_code = sslverify.X509_V_OK
        self.ssl_protocol: Optional[str] = None
        self.ssl_cipher: Optional[str] = None
        self.head_deadline = 0.0  # set in run(): when the head being read must be complete
        if listener.conf.unix is not None:
            self.remote_addr = "unix:"
            self._local = ("unix:" + listener.conf.unix, None)
        else:
            self.remote_addr = addr[0]
            self._local = None  # $server_addr/$server_port: asked of the kernel only when read (as nginx)
        self.peer = addr

    def _local_address(self) -> tuple:
        local = self._local
        if local is None:
            conf = self.listener.conf
            host = conf.host
            literal = resolver.numeric_address(host) if host else None
            if literal is not None and literal[1] not in ("0.0.0.0", "::"):
                family, address = literal  # a listener on one address: that address, no syscall
                local = (_stdsocket.inet_ntop(family, _stdsocket.inet_pton(family, address)), str(conf.port))
            else:
                try:
                    name = self.raw.getsockname()
                    local = (name[0], str(name[1]))
                except OSError:
                    local = (host or "0.0.0.0", str(conf.port))
            self._local = local
        return local

    @property
    def remote_port(self) -> Optional[str]:
        """The client's port ($remote_port); None on a unix socket."""
        if self.listener.conf.unix is not None:
            return None
        return str(self.peer[1])

    @property
    def local_addr(self) -> str:
        """The address the client connected to ($server_addr)."""
        return self._local_address()[0]

    @property
    def local_port(self):
        """The port the client connected to ($server_port); None on a unix socket."""
        return self._local_address()[1]

    # -- log context while no request is parsed yet --------------------------------
    def log_context(self) -> str:
        return ", client: %s, server: %s" % (self.remote_addr, self.listener.key)

    @property
    def connection_number(self) -> int:
        return self.number

    @property
    def settings(self):
        return self.listener.vhosts.default.settings

    def _log(self, level: int, msg: str) -> None:
        token = runtime.current_request.set(self)
        try:
            log.error(level, msg)
        finally:
            runtime.current_request.reset(token)

    # -- lifecycle -------------------------------------------------------------
    def run(self) -> None:
        # nginx arms client_header_timeout once at accept: the TLS handshake and the first head
        # share it, and bytes arriving do not push it back (a trickling client is cut in time)
        self.head_deadline = time.monotonic() + self.settings.client_header_timeout / 1000.0
        try:
            if self.listener.ssl and not self._handshake():
                return
            self.sock = http.socket_class().from_accepted(self.raw, self.peer)
            self._serve()
        except GreenletExit:
            pass
        except Exception:
            self._log(log.ALERT, "unexpected error on connection: " + traceback.format_exc().rstrip())
        finally:
            self._close()
            self.worker.connection_ended(self)
            self.greenlet = None

    def _close(self) -> None:
        # the cosocket of a downstream connection refuses close() (it is a request socket):
        # closing the raw socket ends it
        if self.sock is not None and getattr(self.sock, "_tentry", None) is not None:
            deadlines.forget(self.sock)  # the worker's read-deadline heap lets go of it now
        try:
            self.raw.close()
        except OSError:
            pass

    def _handshake(self) -> bool:
        settings = self.settings
        ctx = self.listener.ssl_context()
        if ctx is None:
            return False
        timer = gevent.Timeout(max(self.head_deadline - time.monotonic(), 0.001))
        timer.start()
        try:
            self.raw.settimeout(settings.client_header_timeout / 1000.0)
            tls = ctx.wrap_socket(self.raw, server_side=True, do_handshake_on_connect=False)
            self.raw = tls
            tls.do_handshake()
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            self._log(log.INFO, "client timed out (110: Connection timed out) while SSL handshaking")
            return False
        except (_stdsocket.timeout, gevent.socket.timeout):
            self._log(log.INFO, "client timed out (110: Connection timed out) while SSL handshaking")
            return False
        except (gevent.ssl.SSLError, OSError) as exc:
            self._log(log.INFO, "SSL_do_handshake() failed (SSL: %s) while SSL handshaking" % exc)
            return False
        finally:
            timer.close()
        self.ssl = True
        self.ssl_server_name = getattr(tls, "_cosocket_sni", None)
        try:
            self.ssl_protocol = tls.version()
            cipher = tls.cipher()
            self.ssl_cipher = cipher[0] if cipher else None
            self.ssl_client_verify = self._client_verify(tls)
        except (ValueError, OSError):
            pass
        return True

    def _client_verify(self, tls) -> str:
        """$ssl_client_verify: NONE, SUCCESS or FAILED:<reason> (keeps the code in ssl_verify_code)."""
        if not tls.getpeercert(True):
            return "NONE"
        result = sslverify.verify_result(tls)
        if result is None:  # no ctypes access: the stdlib only completes verified handshakes
            return "SUCCESS"
        self.ssl_verify_code = result[0]
        return "SUCCESS" if result[0] == sslverify.X509_V_OK else "FAILED:" + result[1]

    def _wait_keepalive(self, timeout_ms: int) -> bool:
        """Wait for the next request's first byte; False on timeout, close or worker exit."""
        if self.sock._buffered():
            return True
        pending = getattr(self.raw, "pending", None)
        if pending is not None and pending():
            return True
        if self.worker.exiting:
            return False
        self.idle = True
        try:
            gevent.socket.wait_read(self.raw.fileno(), timeout=timeout_ms / 1000.0 if timeout_ms else None)
        except (_stdsocket.timeout, gevent.socket.timeout):
            return False
        except (OSError, ValueError):
            return False
        finally:
            self.idle = False
        return not self.worker.exiting

    def _serve(self) -> None:
        listener = self.listener
        settings = self.settings
        while True:
            if self.requests:
                if not settings.keepalive_timeout or not self._wait_keepalive(settings.keepalive_timeout):
                    return
                self.head_deadline = time.monotonic() + settings.client_header_timeout / 1000.0
            # a connection reading its first head is not idle: nginx serves it even when exiting
            self.idle = False
            head_timeouts = (settings.socket.connect_timeout, settings.send_timeout, settings.client_header_timeout)
            self.sock.settimeouts(*head_timeouts)
            token = runtime.current_request.set(QuietReads(self))
            try:
                head = self._read_head(settings)
            except http.HeadError as exc:
                runtime.current_request.reset(token)
                self.idle = False
                self._head_error(exc)
                return
            runtime.current_request.reset(token)
            token = None  # not kept alive by this frame while the request runs (an idle WebSocket's lifetime)
            self.idle = False
            self.requests += 1
            server = listener.vhosts.find(head.host or self.ssl_server_name)
            location = self.worker.location_table(server).find(head.uri)
            settings = location.settings if location is not None else server.settings
            r = Request(self, head, server, settings)
            r.location = location
            # the location's send_timeout bounds the response writes (and the body reads); not set again
            # when they are the values in force (non-zero ones do not depend on the request context)
            timeouts = (settings.socket.connect_timeout, settings.send_timeout, settings.client_body_timeout)
            if timeouts != head_timeouts or not all(timeouts):
                self.sock.settimeouts(*timeouts)
            timeouts = head_timeouts = None  # (this frame lives as long as the connection)
            if self.worker.exiting or self.requests >= settings.keepalive_requests \
                    or not settings.keepalive_timeout:
                r.keepalive = False
            self.current = r
            try:
                self._process(r, location)
            finally:
                self.current = None
            self.worker.write_access_log(r)
            if not r.keepalive or r.broken:
                self._linger(r, settings)
                return
            if not r.discard_body():
                return

    def _read_head(self, settings) -> "http.RequestHead":
        """One request head, read before `head_deadline` (client_header_timeout in total, not per read)."""
        sock = self.sock
        if type(sock._sock) is gevent.socket.socket:
            # plain sockets: the read waits themselves stop at the deadline (no Timeout object per head)
            sock._hard_deadline = deadlines.loop_now() + max(self.head_deadline - time.monotonic(), 0.001)
            try:
                return http.read_head(sock, settings)
            finally:
                sock._hard_deadline = None
        timer = gevent.Timeout(max(self.head_deadline - time.monotonic(), 0.001))
        timer.start()
        try:
            return http.read_head(self.sock, settings)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            if self.sock._buffered():
                raise http.HeadError(408, "client timed out (110: Connection timed out) while reading client "
                                          "request headers") from None
            raise http.HeadError(0, "client timed out (110: Connection timed out) while waiting for request") \
                from None
        finally:
            timer.close()

    def _process(self, r: Request, location) -> None:
        length = r.content_length()
        if length == -1 or (r.head.get("transfer-encoding") and not r.is_chunked()
                            and r.head.get("transfer-encoding").lower() != "identity"):
            r.keepalive = False
            self._log_in(r, log.INFO, "client sent invalid \"Content-Length\" header"
                         if length == -1 else "client sent unknown \"Transfer-Encoding\"")
            r.body_state = "failed"
            r.finalize(400 if length == -1 else 501)
            return
        verify = r.server.ssl.verify_client if self.ssl and self.listener.ssl else "off"
        code = self.ssl_verify_code
        if verify != "off" and code != sslverify.X509_V_OK and \
                (verify != "optional_no_ca" or code not in sslverify.OPTIONAL_NO_CA_ERRORS):
            self._log_in(r, log.INFO, "client SSL certificate verify error: (%d:%s) while reading client "
                         "request headers" % (code, self.ssl_client_verify[len("FAILED:"):]))
            r.body_state = "failed"
            r.finalize(495)
            return
        if verify == "on" and self.ssl_client_verify == "NONE":
            self._log_in(r, log.INFO, "client sent no required SSL certificate while reading client request headers")
            r.body_state = "failed"
            r.finalize(496)
            return
        limit = r.settings.client_max_body_size
        if limit and length is not None and length > limit:
            self._log_in(r, log.ERR, "client intended to send too large body: %d bytes" % length)
            r.body_state = "failed"
            r.finalize(413)
            return
        if not self.listener.ssl or self.ssl:
            pass
        handlers.dispatch(r, location)

    def _log_in(self, r: Request, level: int, msg: str) -> None:
        token = runtime.current_request.set(r)
        try:
            log.error(level, msg)
        finally:
            runtime.current_request.reset(token)

    def _head_error(self, exc: "http.HeadError") -> None:
        if exc.status <= 0:
            if exc.log_msg and (self.requests == 0 or exc.status < 0):
                self._log(log.INFO, exc.log_msg)
            return
        line = exc.request_line
        head = http.RequestHead("GET", "/", "/", None, "HTTP/1.1", [], line)
        r = Request(self, head, self.listener.vhosts.default, self.settings)
        r.keepalive = False
        if exc.status == 408:
            self._log_in(r, log.INFO, exc.log_msg)
            r.status = 408
            if line:
                self.worker.write_access_log(r)
            return
        where = " while reading client request line" if not line else " while reading client request headers"
        self._log_in(r, log.INFO, exc.log_msg + where)
        r.finalize(exc.status)
        self.worker.write_access_log(r)
        self._linger(r, self.settings)

    def _linger(self, r: Optional[Request], settings) -> None:
        """nginx's lingering close: after the response, read and drop what the client still sends."""
        if settings.lingering_close == "off" or r is None or r.raw_acquired:
            return
        if settings.lingering_close != "always" and r.body_state not in ("unread", "failed") \
                and not self.sock._buffered():
            return
        try:
            self.raw.shutdown(_stdsocket.SHUT_WR)
        except (OSError, ValueError):
            return
        timeout = max(settings.lingering_timeout, 1) / 1000.0
        deadline = 30.0
        try:
            with gevent.Timeout(deadline, False):
                while True:
                    self.raw.settimeout(timeout)
                    if not self.raw.recv(65536):
                        return
        except (OSError, ValueError, gevent.ssl.SSLError):
            return

    def watch_abort(self, r: Request) -> None:
        """lua_check_client_abort: run the request's on_abort handler when the client closes."""
        gevent.spawn(self._watch_abort, r)

    def _watch_abort(self, r: Request) -> None:
        try:
            while self.current is r and not r.raw_acquired:
                gevent.socket.wait_read(self.raw.fileno())
                if self.current is not r:
                    return
                try:
                    data = self.raw.recv(1, _stdsocket.MSG_PEEK) if not self.ssl else b"x"
                except OSError:
                    data = b""
                if data:
                    return  # pipelined data, not an abort
                break
            else:
                return
        except (OSError, ValueError):
            pass
        if self.current is not r or r.abort_handler is None:
            return
        from .. import concurrency
        token = runtime.current_request.set(r)
        try:
            concurrency.thread.spawn(r.abort_handler)
        except Exception:
            log.error(log.ERR, "on_abort handler failed: " + traceback.format_exc().rstrip())
        finally:
            runtime.current_request.reset(token)


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
        self._access_logs: Dict[str, http.AccessLog] = {}
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
                al = self._access_logs[path] = http.AccessLog(path)
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
                    raw._sock.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
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
                g = RawGreenlet(self._serve_connections, self.hub)
            conn.greenlet = g
            self.hub.loop.run_callback(g.switch, conn)  # started from the loop, as gevent.spawn does

    def _serve_connections(self, conn: Connection) -> None:
        """A connection greenlet: serve `conn`, then wait among the spares for the next connection."""
        spare = self._spare
        hub = self.hub
        me = getcurrent()
        while True:
            conn.run()
            conn = None
            me.gr_context = None  # the next connection starts with fresh context variables
            if self.exiting or len(spare) >= SPARE_GREENLETS:
                return
            spare.append(me)
            conn = hub.switch()  # the accept loop hands over the next connection

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
        from .. import concurrency
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


def _call_init(target: str, what: str) -> None:
    """Run an `init_*_by_python module:function` hook; errors go to the error log."""
    runtime.worker.phase = what[:-len("_by_python")]  # ngx.get_phase(): "init" or "init_worker"
    try:
        fn = handlers.load_function(target)
        fn()
    except Exception as exc:
        log.error(log.ERR, "%s error: %s" % (what, handlers.format_exception(exc)
                                            if not isinstance(exc, handlers.HandlerLoadError) else exc))
    finally:
        runtime.worker.phase = None


def setup_process(main_conf, worker_id: Optional[int], worker_count: int) -> None:
    """The per-process state a worker needs: runtime.worker, python_path, shared dicts, pools."""
    runtime.worker.id = worker_id
    runtime.worker.count = worker_count
    runtime.worker.exiting = False
    runtime.worker.main_conf = main_conf
    runtime.worker.http_settings = main_conf.http.settings
    handlers.apply_python_path(main_conf.python_path, main_conf.prefix)
    setup_shared(main_conf.http.shared_dicts)
    try:
        from .. import pool
    except ImportError:
        pool = None
    reset = getattr(pool, "reset_after_fork", None)
    if reset is not None:
        reset()


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
        if main_conf.init_worker_by_python:
            _call_init(main_conf.init_worker_by_python, "init_worker_by_python")
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
