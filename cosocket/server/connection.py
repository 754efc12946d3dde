"""One client connection: TLS handshake, the keep-alive loop, head deadline, request checks, lingering close.

`Connection.run()` is the connection's greenlet body: nginx arms
client_header_timeout once at accept (the TLS handshake and the first head
share it), reads each head through the sans-I/O parser (`h1`) over the
connection's cosocket, answers what the parser refuses with nginx's page,
checks what depends on the server (body framing, client_max_body_size, the
client certificate, plain HTTP on a TLS port), routes the request to its
server and location and runs its handler (`handlers.dispatch`), then keeps
the connection alive or closes it the way nginx does (lingering close).
"""
from __future__ import annotations

import socket as _stdsocket
import time
import traceback
from typing import Optional

import gevent
import gevent.socket
import gevent.ssl
from gevent import GreenletExit

from .. import concurrency, deadlines, log, resolver, runtime, sslverify
from ..tcp import TCPSocket
from . import handlers, h1
from .request import Request

#: How long a lingering close may read and drop in all, in seconds (nginx's lingering_time default).
LINGERING_TIME = 30.0


def _head_timeouts(settings) -> tuple:
    """The socket's (connect, send, read) timeouts in ms while a head is read."""
    return settings.socket.connect_timeout, settings.send_timeout, settings.client_header_timeout


class Connection:
    """One client connection and its keep-alive loop."""

    # slots: one per idle WebSocket; "__dict__" (created only when used) takes anything else
    __slots__ = ("worker", "listener", "raw", "number", "requests", "idle", "current", "greenlet", "sock", "ssl",
                 "ssl_server_name", "ssl_client_verify", "ssl_verify_code", "ssl_protocol", "ssl_cipher",
                 "head_deadline", "remote_addr", "_local", "peer", "plain_on_ssl",
                 "__dict__", "__weakref__")

    def __init__(self, worker, listener, raw, addr, number: int):
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
        self.plain_on_ssl = False  # plain HTTP came to a TLS listener: its head gets the 400 "plain HTTP" page
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
        """Serve this connection until it closes (the connection greenlet's body)."""
        # nginx arms client_header_timeout once at accept: the TLS handshake and the first head
        # share it, and bytes arriving do not push it back (a trickling client is cut in time)
        self.head_deadline = time.monotonic() + self.settings.client_header_timeout / 1000.0
        try:
            if self.listener.ssl and not self._handshake():
                return
            self.sock = TCPSocket.from_accepted(self.raw, self.peer, _head_timeouts(self.settings))
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
        if self.sock is not None:
            deadlines.forget(self.sock)  # the worker's read-deadline heap lets go of it now
        try:
            self.raw.close()
        except OSError:
            pass

    def _first_byte(self) -> Optional[bytes]:
        """The client's first byte, left in the kernel (b"" when it closed, None on timeout)."""
        try:
            gevent.socket.wait_read(self.raw.fileno(), timeout=max(self.head_deadline - time.monotonic(), 0.001))
            return self.raw.recv(1, _stdsocket.MSG_PEEK)
        except (_stdsocket.timeout, gevent.socket.timeout):
            return None
        except OSError:
            return b""

    def _handshake(self) -> bool:
        """The server side of TLS; False when the connection ends here.  A first byte that cannot start a
        TLS record is plain HTTP: served up to its head, then answered nginx's 400 "plain HTTP" page."""
        settings = self.settings
        ctx = self.listener.ssl_context()
        if ctx is None:
            return False
        first = self._first_byte()
        if first is None:
            self._log(log.INFO, "client timed out (110: Connection timed out) while SSL handshaking")
            return False
        if not first:
            return False
        if first[0] != 0x16 and not first[0] & 0x80:
            self.plain_on_ssl = True
            return True
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
        if self.sock.buffered():
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
            head_timeouts = _head_timeouts(settings)
            if self.requests:  # (the first head's are the socket's from the start)
                self.sock.settimeouts(*head_timeouts)
            try:
                head, framing = self._read_head(settings)
            except h1.HeadError as exc:
                self.idle = False
                self._head_error(exc)
                return
            self.idle = False
            self.requests += 1
            server = listener.vhosts.find(head.host or self.ssl_server_name)
            location = self.worker.location_table(server).find(head.uri)
            settings = location.settings if location is not None else server.settings
            r = Request(self, head, server, settings, framing)
            r.location = location
            # the location's send_timeout bounds the response writes (and the body reads); not set again
            # when they are the values in force (non-zero ones do not depend on the request context)
            timeouts = (settings.socket.connect_timeout, settings.send_timeout, settings.client_body_timeout)
            if timeouts != head_timeouts or not all(timeouts):
                self.sock.settimeouts(*timeouts)
            timeouts = head_timeouts = None  # (this frame lives as long as the connection)
            if self.worker.exiting or self.requests >= settings.keepalive_requests \
                    or not settings.keepalive_timeout or head.http_version < 1.0:
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

    def _read_head(self, settings):
        """One request head and its body framing, read before `head_deadline` (client_header_timeout in
        total, not per read); h1.HeadError when there is none to serve."""
        sock = self.sock
        number, size = settings.large_client_header_buffers
        parser = h1.HeadParser(number, size)
        buf = sock.rbuf
        plain = type(self.raw) is gevent.socket.socket
        timer = None
        if plain:
            # the read waits themselves stop at the deadline (no Timeout object per head)
            sock.set_read_deadline(deadlines.loop_now() + max(self.head_deadline - time.monotonic(), 0.001))
        else:
            timer = gevent.Timeout(max(self.head_deadline - time.monotonic(), 0.001))
            timer.start()
        sock.log_errors = False  # a failed read here is reported in nginx's words below
        try:
            while True:
                head = parser.feed(buf) if buf else None
                if head is not None:
                    sock.consume(parser.end)
                    break
                err = sock.fill()
                if err is not None:
                    raise self._read_failed(err, parser)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            raise self._read_failed("timeout", parser) from None
        finally:
            sock.log_errors = None
            if plain:
                sock.set_read_deadline(None)
            else:
                timer.close()
        return head, h1.body_framing(head)

    def _read_failed(self, err: str, parser: "h1.HeadParser") -> "h1.HeadError":
        started = parser.line is not None or self.sock.buffered()
        if err == "timeout":
            if started:
                return h1.HeadError(408, "client timed out (110: Connection timed out) while reading client "
                                         "request headers", parser.request_line_text())
            return h1.HeadError(0, "client timed out (110: Connection timed out) while waiting for request")
        if started:
            return h1.HeadError(-1, "client prematurely closed connection while reading client request headers",
                                parser.request_line_text())
        return h1.HeadError(0, "")

    def _process(self, r: Request, location) -> None:
        """The checks nginx makes before the content phase, then the handler."""
        if self.plain_on_ssl:
            self._log_in(r, log.INFO, "client sent plain HTTP request to HTTPS port while reading client "
                                      "request headers")
            r.body_state = "failed"
            r.finalize(497)
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
        length = r.framing[0]
        if limit and length is not None and length > limit:
            self._log_in(r, log.ERR, "client intended to send too large body: %d bytes" % length)
            r.body_state = "failed"
            r.finalize(413)
            return
        handlers.dispatch(r, location)

    def _log_in(self, r: Request, level: int, msg: str) -> None:
        token = runtime.current_request.set(r)
        try:
            log.error(level, msg)
        finally:
            runtime.current_request.reset(token)

    def _head_error(self, exc: "h1.HeadError") -> None:
        if exc.status <= 0:
            if exc.log_msg and (self.requests == 0 or exc.status < 0):
                self._log(log.INFO, exc.log_msg)
            return
        line = exc.request_line
        if exc.http09:  # the page goes out bare, as the answer to an HTTP/0.9 request
            head = h1.RequestHead("GET", "/", "/", None, "", [], line, http_version=0.9)
        else:
            head = h1.RequestHead("GET", "/", "/", None, "HTTP/1.1", [], line)
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
        r.body_state = "failed"
        r.finalize(exc.status)
        self.worker.write_access_log(r)
        self._linger(r, self.settings)

    def _linger(self, r: Optional[Request], settings) -> None:
        """nginx's lingering close: after the response, read and drop what the client still sends.

        After a 413 for a Content-Length the announced body is read and dropped first (the client
        reads the 413, not a reset), without shutting the sending side down, as nginx's discard.
        """
        if settings.lingering_close == "off" or r is None or r.raw_acquired:
            return
        if r.status == 413 and r.framing[0]:
            self._discard(r.framing[0] - self.sock.buffered(), settings)
            return
        if settings.lingering_close != "always" and r.body_state not in ("unread", "failed") \
                and not self.sock.buffered():
            return
        try:
            self.raw.shutdown(_stdsocket.SHUT_WR)
        except (OSError, ValueError):
            return
        self._discard(None, settings)

    def _discard(self, left: Optional[int], settings) -> None:
        """Read and drop `left` bytes (None: up to the client's close), each read within lingering_timeout,
        all within lingering_time."""
        timeout = max(settings.lingering_timeout, 1) / 1000.0
        try:
            with gevent.Timeout(LINGERING_TIME, False):
                while left is None or left > 0:
                    self.raw.settimeout(timeout)
                    data = self.raw.recv(65536 if left is None else min(left, 65536))
                    if not data:
                        return
                    if left is not None:
                        left -= len(data)
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
        token = runtime.current_request.set(r)
        try:
            concurrency.thread.spawn(r.abort_handler)
        except Exception:
            log.error(log.ERR, "on_abort handler failed: " + traceback.format_exc().rstrip())
        finally:
            runtime.current_request.reset(token)


