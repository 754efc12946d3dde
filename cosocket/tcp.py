"""The Lua-facing cosocket: `ngx.socket.tcp()` with lua-nginx-module's calls, returns and errors.

* Timeouts are nginx's: the read (send) timeout bounds each wait for data
  (for buffer space) and is re-armed whenever some arrives, so a slow but
  steady peer never times out.  A read timeout leaves the connection usable;
  another failed read closes the read side, a failed send the write side
  (`cosocket.stream`); `close()` answers "closed" once both have failed.
* One reader, one writer and one connector at a time: a second one, and
  `close()` or `setkeepalive()` meanwhile, answer "socket busy reading" /
  "socket busy writing" / "socket busy connecting".
* Option tables are Lua tables: keys a call does not use are ignored;
  unknown keyword arguments are a TypeError.
* Buffering, the reads and the complete sends are `cosocket.stream`'s
  (`TCPSocket` is a `Stream`); this module adds the receive patterns,
  connecting, keepalive pools and TLS.
* Idle sockets stay small (`__slots__`, shared timeout values, an emptied
  buffer): see bench/README.md, "Profiles and lessons".
* Failures are returned in fixed-arity tuples with lua-nginx-module's
  strings and logged in nginx's words unless `lua_socket_log_errors off`.
"""
from __future__ import annotations

import os
import socket as _stdsocket
import ssl as _stdssl

from typing import Any, Dict, Optional, Tuple, Union

from gevent import socket as gsocket

from . import deadlines, log, pool as _pool, resolver, runtime, tls
from .log import DEBUG, ERR
from .stream import UNSET, Stream, raw_socket_of, errno_text as _errno_text, \
    strerror as _strerror
from .receiveuntil import read_until, recovery_edges
from .text import lua_tostring, send_bytes
from .types import BoolErr, CountErr, DataErr, OkErr, ReadResult, SendData

_timeout = _stdsocket.timeout
_NO_TIMEOUTS = (0, 0, 0)  # connect, send, read as set by the user (0 = the directive's value)
_seconds_cache: dict = {}



def _seconds(ms: int) -> float:
    """`ms` / 1000 as a float shared by every socket using that value (idle sockets stay smaller)."""
    value = _seconds_cache.get(ms)
    if value is None:
        if len(_seconds_cache) > 256:
            _seconds_cache.clear()
        value = _seconds_cache[ms] = ms / 1000.0
    return value

_SOCKOPTS = {
    "keepalive": (_stdsocket.SOL_SOCKET, _stdsocket.SO_KEEPALIVE),
    "reuseaddr": (_stdsocket.SOL_SOCKET, _stdsocket.SO_REUSEADDR),
    "tcp-nodelay": (_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY),
    "sndbuf": (_stdsocket.SOL_SOCKET, _stdsocket.SO_SNDBUF),
    "rcvbuf": (_stdsocket.SOL_SOCKET, _stdsocket.SO_RCVBUF),
}
if hasattr(_stdsocket, "TCP_KEEPINTVL"):
    _SOCKOPTS["keepintvl"] = (_stdsocket.IPPROTO_TCP, _stdsocket.TCP_KEEPINTVL)
if hasattr(_stdsocket, "TCP_KEEPCNT"):
    _SOCKOPTS["keepcnt"] = (_stdsocket.IPPROTO_TCP, _stdsocket.TCP_KEEPCNT)

_CONNECT_OPTS = ("pool", "pool_size", "backlog")
_UNTIL_OPTS = ("inclusive",)


def _options(opts, kw: dict, known: tuple, n: int, fname: str) -> dict:
    """An options table and keyword arguments merged: a dict is a Lua table (keys the call does not
    use are ignored), a keyword argument is Python (an unknown one is a TypeError naming it)."""
    options = {}
    if opts is not None:
        if not isinstance(opts, dict):
            raise TypeError("bad argument #%d to '%s' (table expected, got %s)" % (n, fname, type(opts).__name__))
        for name in known:
            if name in opts:
                options[name] = opts[name]
    for name, value in kw.items():
        if name not in known:
            raise TypeError('unknown option "%s"' % name)
        options[name] = value
    return options


def _int_arg(value, n: int, fname: str, what: str = "number") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("bad argument #%d to '%s' (%s expected, got %s)"
                        % (n, fname, what, "nil" if value is None else type(value).__name__))
    try:
        return int(value)
    except ValueError:
        raise TypeError("bad argument #%d to '%s' (%s expected, got string)" % (n, fname, what)) from None


def _check_timeout(value, n: int, fname: str) -> int:
    ms = _int_arg(value, n, fname)
    if ms >> 31:
        raise TypeError("bad timeout value")
    return ms


def _timeouts_ms(connect_ms, send_ms, read_ms) -> Tuple[int, int, int]:
    """settimeouts' arguments checked -> (connect, send, read) in ms."""
    if connect_ms.__class__ is int and send_ms.__class__ is int and read_ms.__class__ is int \
            and not (connect_ms | send_ms | read_ms) >> 31:  # plain ints in range: nothing to check
        return _shared((connect_ms, send_ms, read_ms))
    return _shared((_check_timeout(connect_ms, 1, "settimeouts"), _check_timeout(send_ms, 2, "settimeouts"),
                    _check_timeout(read_ms, 3, "settimeouts")))


_SHARED_TIMEOUTS: Dict[Tuple[int, int, int], Tuple[int, int, int]] = {}


def _shared(timeouts: Tuple[int, int, int]) -> Tuple[int, int, int]:
    """One tuple for each timeout setting in use (a few hundred at most): an idle socket keeps no tuple of
    its own (64 B)."""
    shared = _SHARED_TIMEOUTS.get(timeouts)
    if shared is None:
        if len(_SHARED_TIMEOUTS) < 512:
            _SHARED_TIMEOUTS[timeouts] = timeouts
        return timeouts
    return shared


class _UntilReader:
    """The iterator `receiveuntil` returns: `reader(size=None)` -> (data, err, partial)."""

    __slots__ = ("_owner", "_pattern", "_inclusive", "_done", "_edges")

    def __init__(self, owner: "TCPSocket", pattern: bytes, inclusive: bool):
        self._owner = owner
        self._pattern = pattern
        self._inclusive = inclusive
        self._done = False
        self._edges = recovery_edges(pattern)

    def __call__(self, size: Optional[int] = None) -> ReadResult:
        """Read up to the pattern; with `size`, hand the data out in chunks, then (None, None, None)."""
        owner = self._owner
        if size is None:
            size = 0
        else:
            size = _int_arg(size, 1, "receiveuntil iterator")
            if size < 0:
                size = 0
        if owner._connecting:
            return None, "socket busy connecting", None
        if owner._sock is None or owner._read_closed:
            return None, "closed", None
        if owner._request is not None:
            owner._check_request()
        if owner._reading:
            return None, "socket busy reading", None
        if self._done:
            self._done = False
            return None, None, None
        data, err, partial, self._done = read_until(owner, self._pattern, self._edges, self._inclusive, size)
        return data, err, partial


class TCPSocket(Stream):
    """A cosocket object (`ngx.socket.tcp()`); see lua-nginx-module's `tcpsock:*` methods.

    The buffering, reads and sends are `cosocket.stream.Stream`'s; this
    class adds the Lua-facing calls, connecting, pools and TLS.
    """

    __slots__ = ("_key", "_pool", "_reused", "_peer", "_peer_text", "_tmo", "_ct",
                 "_tls_session", "_client_cred", "_connecting", "__weakref__")

    def __init__(self) -> None:
        Stream.__init__(self)
        self._key: Optional[str] = None
        self._pool: Optional[_pool.Pool] = None  # the pool that counts this connection, if any
        self._reused = 0
        self._peer = None
        self._peer_text = ""
        self._tmo = _NO_TIMEOUTS
        self._ct = 60.0
        self._tls_session = None
        # (cert, key) given to setclientcert, or None
        self._client_cred: Optional[Tuple[tls.PemCertChain, tls.PemPrivKey]] = None
        self._connecting = False

    def __del__(self) -> None:
        # OpenResty's __gc: a socket dropped without close() gives its connection and pool slot back
        if self._pool is not None:
            try:
                self._finalize()
                self._release_pool()
            except Exception:  # noqa: BLE001 - nothing may escape a finalizer
                pass

    # ------------------------------------------------------------------ setup
    @classmethod
    def from_accepted(cls, gevent_socket, peer_addr,
                      timeouts: Optional[Tuple[int, int, int]] = None) -> "TCPSocket":
        """Wrap a server-side connection (the HTTP layer reads the request through it); `timeouts`: the
        connect, send and read timeouts in ms to start with, as settimeouts takes them."""
        self = cls()
        self._sock = gevent_socket
        self._raw = raw_socket_of(gevent_socket)
        self._peer = peer_addr  # (its text is made only when shown: see __repr__)
        self._downstream = True
        if timeouts is not None:
            self._tmo = _timeouts_ms(*timeouts)
        self._apply_settings()
        return self

    def _apply_settings(self) -> None:
        settings = runtime.socket_settings()
        self._bufsize = max(1, settings.buffer_size)
        self._set_timeouts(settings)

    def _set_timeouts(self, settings) -> None:
        """The timeouts in seconds from `_tmo`, each unset one (0) from `settings` (the lua_socket_* directives;
        None when all three are set)."""
        c, s, r = self._tmo
        if c <= 0:
            c = settings.connect_timeout
        if s <= 0:
            s = settings.send_timeout
        if r <= 0:
            r = settings.read_timeout
        seconds = _seconds_cache.get  # (a miss, or 0, asks _seconds)
        self._ct = seconds(c) or _seconds(c)
        self._st = seconds(s) or _seconds(s)
        self._rt = seconds(r) or _seconds(r)
        self._settle()

    def _check_request(self) -> None:
        if runtime.current_request.get() is not self._request:
            raise RuntimeError("bad request")

    def __repr__(self) -> str:
        state = "closed" if self._sock is None else "connected to %s" % (
            self._peer_text or (_addr_text(self._peer) if self._peer is not None else ""))
        return "<cosocket tcp %s>" % state

    # ---------------------------------------------------------------- timeouts
    def settimeout(self, ms: Optional[float]) -> None:
        """Connect, send and read timeout in ms (0, negative or None: the lua_socket_* directives)."""
        if ms.__class__ is not int or ms >> 31:  # (a plain int in range needs no more checks)
            ms = 0 if ms is None else _check_timeout(ms, 1, "settimeout")  # Lua's tonumber(nil) is 0
        self._tmo = _shared((ms, ms, ms))
        self._apply_timeouts()

    def settimeouts(self, connect_ms: Optional[float], send_ms: Optional[float],
                    read_ms: Optional[float]) -> None:
        """Separate connect, send and read timeouts in ms (0: the directive's value)."""
        self._tmo = _timeouts_ms(connect_ms, send_ms, read_ms)
        self._apply_timeouts()

    def _apply_timeouts(self) -> None:
        c, s, r = self._tmo
        # all three set: no directive to look up
        self._set_timeouts(None if c > 0 and s > 0 and r > 0 else runtime.socket_settings())

    # ----------------------------------------------------------------- connect
    def connect(self, host: Union[str, bytes], port: Union[int, Dict[str, Any], None] = None,
                opts: Optional[Dict[str, Any]] = None, **kw: Any) -> OkErr:
        """`connect(host, port, opts)` / `connect("unix:/path", opts)` -> (1, None) or (None, err)."""
        if isinstance(port, dict):
            if opts is not None:
                raise TypeError("bad argument #3 to 'connect' (number expected, got table)")
            port, opts = None, port
        options = _options(opts, kw, _CONNECT_OPTS, 3, "connect")
        if self._connecting:
            return None, "socket busy connecting"
        if self._reading or self._writing:
            return None, "socket busy reading" if self._reading else "socket busy writing"
        if isinstance(host, bytes):
            host = host.decode("utf-8", "replace")
        if not isinstance(host, str):
            raise TypeError("bad argument #1 to 'connect' (string expected, got %s)"
                            % ("nil" if host is None else type(host).__name__))

        pool_size = options.get("pool_size")
        if pool_size is not None:
            pool_size = _int_arg(pool_size, 3, "connect")
            if pool_size <= 0:
                raise TypeError("bad argument #3 to 'connect' (bad \"pool_size\" option value: %d)" % pool_size)
        backlog = options.get("backlog")
        if backlog is not None:
            backlog = _int_arg(backlog, 3, "connect")
            if backlog < 0:
                raise TypeError("bad argument #3 to 'connect' (bad \"backlog\" option value: %d)" % backlog)
        custom_key = options.get("pool")
        if custom_key is not None:
            if isinstance(custom_key, bool) or not isinstance(custom_key, (str, bytes, int, float)):
                raise TypeError("bad argument #3 to 'connect' (bad \"pool\" option type: %s)"
                                % type(custom_key).__name__)
            custom_key = lua_tostring(custom_key)

        settings = runtime.socket_settings()
        if backlog is not None and pool_size is None:
            pool_size = settings.pool_size

        unix_path = None
        if host[:5].lower() == "unix:":  # the port, if any, is ignored as nginx ignores it
            unix_path = host[5:]
            key = host
            port = None
        elif port is not None:
            port = _int_arg(port, 2, "connect")
            if port < 0 or port > 65535:
                return None, "bad port number: %d" % port
            if not host:
                return None, 'failed to parse host name "": no host'
            key = "%s:%d" % (host, port)
        else:
            return None, "missing the port number"
        if custom_key is not None:
            key = custom_key

        if self._downstream:
            raise RuntimeError("attempt to re-connect a request socket")
        if self._sock is not None:
            if log.enabled(DEBUG):
                log.error(DEBUG, "lua tcp socket reconnect without shutting down")
            self._finalize()

        self._request = runtime.current_request.get()
        owner = self._request if self._request is not None else runtime.current_timer.get()
        if owner is not None:
            runtime.on_request_end(owner, self)
        self._key = key
        self._reused = 0
        self._read_closed = False
        self._write_closed = False
        self._tls_session = None
        self._apply_settings()
        self._connecting = True
        try:
            return self._connect(key, host, port, unix_path, pool_size, backlog, settings)
        except BaseException:
            # killed while connecting (ngx.thread.kill, the request ending): nothing stays counted
            self._finalize()
            self._release_pool()
            raise
        finally:
            self._connecting = False

    def request_ended(self) -> None:
        """The request (or timer run) that connected this socket has ended: close it, as nginx's cleanup does."""
        self._finalize()

    def _connect(self, key: str, host: str, port, unix_path, pool_size, backlog, settings):
        spool = _pool.get(key)
        if spool is None and pool_size:
            spool = _pool.create(key, pool_size, backlog)
        if spool is not None:
            entry = spool.take_idle()
            if entry is None:
                entry, err = spool.acquire(int(self._ct * 1000), host, port)
                if err is not None:
                    return None, err
            self._pool = spool
            if entry is not None:
                self._adopt(entry)
                return 1, None

        if log.enabled(DEBUG):
            log.error(DEBUG, "lua tcp socket connect timeout: %d" % int(self._ct * 1000))
        if unix_path is not None:
            return self._open(_stdsocket.AF_UNIX, unix_path, host)

        literal = resolver.numeric_address(host)
        if literal is None:
            addrs, err = resolver.resolve(host, settings.resolver, settings.resolver_timeout)
            if err is not None or addrs is None:
                self._release_pool()
                return None, err
            if len(addrs) > 1 and settings.resolver is not None:
                import random
                family, address = addrs[random.randrange(len(addrs))]
            else:
                family, address = addrs[0]
        else:
            family, address = literal
        addr = (address, port) if family == _stdsocket.AF_INET else (address, port, 0, 0)
        return self._open(family, addr, host)

    def _adopt(self, entry) -> None:
        self._sock = entry.sock
        self._raw = raw_socket_of(entry.sock)
        self._settle()
        self.drained = False
        self._cur_to = UNSET
        self._reused = entry.reused + 1
        self._peer = entry.peer
        self._peer_text = entry.peer_text
        self._tls_session = entry.tls_session
        self.rbuf.clear()

    def _open(self, family, addr, host: str):
        sock = gsocket.socket(family, _stdsocket.SOCK_STREAM)
        sock.settimeout(self._ct)
        self._peer = addr
        self._peer_text = _addr_text(addr) if family != _stdsocket.AF_UNIX else "unix:" + addr
        try:
            sock.connect(addr)
        except BaseException as exc:
            if not isinstance(exc, OSError):  # killed while connecting
                sock.close()
                raise
            return self._connect_failed(sock, exc)
        if family != _stdsocket.AF_UNIX:
            try:
                sock.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._sock = sock
        self._raw = sock._sock
        self._settle()
        self.drained = False
        self._cur_to = self._ct
        self.rbuf.clear()
        if log.enabled(DEBUG):
            log.error(DEBUG, "lua tcp socket connected: fd:%d" % sock.fileno())
        return 1, None

    def _connect_failed(self, sock, exc: OSError):
        """Log a failed connect in nginx's words, give the pool slot back -> (None, err)."""
        sock.close()
        self._release_pool()
        if isinstance(exc, _timeout):
            if self._logs():
                log.error(ERR, "lua tcp socket connect timed out, when connecting to %s" % self._peer_text)
            return None, "timeout"
        if self._logs():
            log.error(ERR, "connect() failed (%s), when connecting to %s" % (_errno_text(exc), self._peer_text))
        return None, _strerror(exc)

    # ------------------------------------------------------------------ close
    def _release_pool(self) -> None:
        spool = self._pool
        if spool is not None:
            self._pool = None
            spool.release()

    def _finalize(self, keep_buffer: bool = False) -> None:
        """Close the connection, whatever its state, and give back its pool slot.

        `keep_buffer`: a failing read still hands the buffered bytes out as its partial.
        """
        sock = self._sock
        if sock is None:
            return
        self._sock = None
        self._raw = self._rdirect = self.direct_writer = None
        if self._tentry is not None:
            deadlines.forget(self)
        if not keep_buffer:
            self.rbuf.clear()
        if self._tls_session is not None:
            self._tls_session.detach()
        try:
            sock.close()
        except OSError:
            pass
        self._release_pool()

    def close(self) -> OkErr:
        """-> (1, None), or (None, "closed") when there is no connection (or the busy error while in use)."""
        if self._connecting:
            return None, "socket busy connecting"
        if self._sock is None:
            return None, "closed"
        if self._reading or self._writing:
            return None, "socket busy reading" if self._reading else "socket busy writing"
        if self._request is not None:
            self._check_request()
        if self._downstream:
            raise RuntimeError("attempt to close a request socket")
        self._finalize()
        return 1, None

    def _closed_read(self, method: str):
        if self._logs():
            log.error(ERR, "attempt to %s data on a closed socket" % method)
        return None, "closed", None

    def receive(self, pattern: Union[int, float, str, bytes, None] = None) -> ReadResult:
        """`receive()`/`"*l"` (a line), `"*a"` (all until close) or `n` bytes -> (data, None, None) / (None, err, partial)."""
        if self._connecting:
            return None, "socket busy connecting", None
        if self._sock is None or self._read_closed:
            return self._closed_read("receive")
        if self._request is not None:
            self._check_request()
        if self._reading:  # another greenlet waits for bytes: none may be taken before it has them
            return None, "socket busy reading", None
        if type(pattern) is int:
            buf = self.rbuf
            if 0 < pattern <= len(buf):
                data = bytes(buf[:pattern])
                del buf[:pattern]
                return data, None, None
            return self._read_bytes(pattern)
        if pattern is None or pattern == "*l" or pattern == b"*l":
            return self._read_line()
        if pattern == "*a" or pattern == b"*a":
            return self._read_all()
        if isinstance(pattern, float) or (isinstance(pattern, str) and pattern[:1] != "*"):
            try:
                return self._read_bytes(int(float(pattern)))
            except ValueError:
                pass
        if isinstance(pattern, (str, bytes)):
            text = lua_tostring(pattern)
            if len(text) == 2 and text[0] == "*":  # "*x": nginx names no pattern
                raise TypeError("bad argument #1 to 'receive' (bad pattern argument)")
            raise TypeError("bad argument #1 to 'receive' (bad pattern argument: %s)" % text)
        raise TypeError("bad argument #1 to 'receive' (bad argument)")

    def _read_line(self):
        buf = self.rbuf
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if i >= 0:
                line = bytes(buf[:i])
                del buf[:i + 1]
                if b"\r" in line:
                    line = line.replace(b"\r", b"")
                return line, None, None
            start = len(buf)
            err = self._fill()
            if err is not None:
                partial = bytes(buf).replace(b"\r", b"")
                buf.clear()
                return None, err, partial

    def _read_all(self):
        buf = self.rbuf
        chunks = [bytes(buf)]
        buf.clear()
        if self._reading:
            return None, "socket busy reading", chunks[0]
        sock = self._sock
        self._settimeout(self._rt)
        size = max(self._bufsize, 65536)
        self._reading = True
        err = None
        try:
            while True:
                chunk = sock.recv(size)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:  # socket.timeout included
            err = self._read_error(exc)
        finally:
            self._reading = False
        data = b"".join(chunks)
        if err is None:  # the end of the stream is not an error: "*a" again answers ""
            return data, None, None
        if err != "timeout":
            self._fail_read(err)
        return None, err, data

    def receiveany(self, max_bytes: int) -> DataErr:
        """Whatever is available, at most `max_bytes`, waiting for some if none -> (data, None) / (None, err)."""
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, float)) or max_bytes <= 0:
            raise TypeError("bad argument #1 to 'receiveany' (bad max argument)")
        max_bytes = int(max_bytes)
        if self._connecting:
            return None, "socket busy connecting"
        if self._sock is None or self._read_closed:
            return self._closed_read("receive")[:2]
        if self._request is not None:
            self._check_request()
        if self._reading:
            return None, "socket busy reading"
        buf = self.rbuf
        if not buf:
            err = self._fill()
            if err is not None:
                buf.clear()
                return None, err
        data = bytes(buf[:max_bytes])
        del buf[:max_bytes]
        return data, None

    def receiveuntil(self, pattern: Union[str, bytes], opts: Optional[Dict[str, Any]] = None,
                     **kw: Any) -> _UntilReader:
        """An iterator reading up to `pattern`: `reader(size=None)` -> (data, err, partial).

        Option `inclusive` (bool): include the pattern in the data.
        """
        options = _options(opts, kw, _UNTIL_OPTS, 2, "receiveuntil")
        inclusive = options.get("inclusive", False)
        if inclusive is None:
            inclusive = False
        if not isinstance(inclusive, bool):
            raise TypeError("bad argument #2 to 'receiveuntil' (bad \"inclusive\" option value type: %s)"
                            % type(inclusive).__name__)
        if isinstance(pattern, str):
            pattern = pattern.encode("utf-8")
        elif isinstance(pattern, (int, float)) and not isinstance(pattern, bool):
            pattern = lua_tostring(pattern).encode()
        elif isinstance(pattern, (bytearray, memoryview)):
            pattern = bytes(pattern)
        elif not isinstance(pattern, bytes):
            raise TypeError("bad argument #1 to 'receiveuntil' (string expected, got %s)"
                            % ("nil" if pattern is None else type(pattern).__name__))
        if not pattern:
            raise TypeError("bad argument #1 to 'receiveuntil' (pattern is empty)")
        return _UntilReader(self, pattern, inclusive)

    # --- fast paths for the HTTP layer -------------------------------------
    def send(self, data: SendData) -> CountErr:
        """Send bytes/str/numbers/(nested) lists of them -> (bytes_sent, None) or (None, err)."""
        if self._connecting:
            return None, "socket busy connecting"
        err = self.write_refused()
        if err is not None:
            return None, err
        payload = data if type(data) is bytes else send_bytes(data)
        n = len(payload)
        if not n:
            return 0, None
        return self._send_all(self._sock, payload, n, None)

    # ------------------------------------------------------------- keepalive
    def setkeepalive(self, timeout_ms: Optional[float] = None, pool_size: Optional[int] = None) -> OkErr:
        """Park the connection in its pool -> (1, None) or (None, err); the object is closed afterwards."""
        if self._connecting:
            return None, "socket busy connecting"
        sock = self._sock
        if sock is None or self._read_closed or self._write_closed:
            return None, "closed"
        if self._request is not None:
            self._check_request()
        if self._downstream:
            raise RuntimeError("attempt to put a request socket into the pool")
        if self._reading or self._writing:
            return None, "socket busy reading" if self._reading else "socket busy writing"
        # a peer that has closed makes it "closed" before anything else, as nginx's pending eof
        state = _peek_state(sock)
        if state == "eof":
            return None, "closed"
        if self.rbuf:
            return None, "unread data in buffer"
        settings = runtime.socket_settings()
        timeout_ms = settings.keepalive_timeout if timeout_ms is None else _int_arg(timeout_ms, 1, "setkeepalive")
        size = settings.pool_size if pool_size is None else _int_arg(pool_size, 2, "setkeepalive")

        # Anything waiting in the kernel makes the connection unfit for reuse.
        if state != "idle":
            self._finalize()
            return None, "connection in dubious state"

        spool = _pool.get(self._key)
        if spool is None:
            if size <= 0:
                raise TypeError("bad argument #2 to 'setkeepalive' (bad \"pool_size\" option value: %d)" % size)
            spool = _pool.create(self._key, size, None)
        counted = self._pool is spool
        if self._pool is not None and not counted:
            self._release_pool()  # its old pool was freed meanwhile
        if log.enabled(DEBUG):
            log.error(DEBUG, "lua tcp socket set keepalive: saving connection fd:%d" % sock.fileno())
            log.error(DEBUG, "lua tcp socket keepalive timeout: %s" %
                      ("unlimited" if not timeout_ms else "%d ms" % timeout_ms))
        if self._tls_session is not None:
            self._tls_session.refresh()
        entry = _pool.IdleConn(sock, self._reused, self._peer, self._peer_text, self._tls_session)
        self._sock = None
        self._raw = self._rdirect = self.direct_writer = None
        if self._tentry is not None:
            deadlines.forget(self)
        self._pool = None
        self.rbuf.clear()
        if runtime.worker.exiting:
            try:
                sock.close()
            except OSError:
                pass
            if counted:
                spool.release()
            return 1, None
        spool.put(entry, counted, timeout_ms)
        return 1, None

    def getreusedtimes(self) -> CountErr:
        """How many times this connection came from the pool -> (count, None) / (None, "closed")."""
        if self._sock is None:
            return None, "closed"
        return self._reused, None

    def setoption(self, name: Optional[str] = None, value: Any = None) -> BoolErr:
        """setsockopt by lua-resty-core's names (keepalive, reuseaddr, tcp-nodelay, sndbuf, rcvbuf) -> (True, None)."""
        if name is None:
            return None, 'missing the "option" argument'
        if value is None:
            return None, 'missing the "value" argument'
        if self._sock is None:
            return None, "closed"
        opt = _SOCKOPTS.get(name)
        if opt is None:
            return None, "unsupported option " + lua_tostring(name)
        try:
            self._sock.setsockopt(opt[0], opt[1], int(value))
        except (OSError, ValueError, TypeError) as exc:
            return None, os.strerror(exc.errno) if getattr(exc, "errno", None) else str(exc)
        return True, None

    # ------------------------------------------------------------------- TLS
    def setclientcert(self, cert: Optional[tls.PemCertChain] = None,
                      key: Optional[tls.PemPrivKey] = None) -> BoolErr:
        """Client certificate for the next sslhandshake, from ngx.ssl.parse_pem_cert/parse_pem_priv_key -> (True, None)."""
        if cert is None and key is None:
            self._client_cred = None
            return True, None
        if cert is None or key is None:
            return None, "client certificate must be supplied with corresponding private key"
        if not isinstance(cert, tls.PemCertChain):
            return None, "bad cert arg: cdata expected, got %s" % type(cert).__name__
        if not isinstance(key, tls.PemPrivKey):
            return None, "bad pkey arg: cdata expected, got %s" % type(key).__name__
        self._client_cred = (cert, key)
        return True, None

    def sslhandshake(self, reused_session: Union[tls.Session, bool, None] = None,
                     server_name: Union[str, bytes, bool, None] = None, ssl_verify: bool = False,
                     send_status_req: bool = False) -> Tuple[Union[tls.Session, bool, None], Optional[str]]:
        """TLS over the connection -> (session, None), (True, None) when reused_session is False, or (None, err)."""
        sock = self._sock
        if sock is None:
            return None, "closed"
        if self._request is not None:
            self._check_request()
        if self._downstream:
            return None, "not supported for downstream sockets"
        if server_name is False:
            server_name = None
        if server_name is not None and not isinstance(server_name, str):
            if isinstance(server_name, bytes):
                server_name = server_name.decode("ascii", "replace")
            else:
                raise TypeError("bad argument #2 to 'sslhandshake' (string expected, got %s)"
                                % type(server_name).__name__)
        if server_name == "":
            server_name = None
        if self._reading or self._writing:
            return None, "socket busy reading" if self._reading else "socket busy writing"

        if self._tls_session is not None:  # a connection from the pool, TLS already up
            if isinstance(reused_session, tls.Session):
                return reused_session, None
            if reused_session is False:
                return True, None
            return self._tls_session, None

        settings = runtime.socket_settings()
        verify = bool(ssl_verify)
        try:
            ctx = tls.client_context(verify, settings.ssl_trusted_certificate, settings.ssl_verify_depth,
                                     verify and server_name is not None, *(self._client_cred or (None, None)))
        except (OSError, ValueError) as exc:
            if self._logs():
                log.error(ERR, "lua ssl failed to create context: %s" % exc)
            return None, "failed to create ssl connection"
        session = None
        if isinstance(reused_session, tls.Session) and reused_session.context is ctx:
            session = reused_session.session
        if self.rbuf:
            return None, "unread data in buffer"
        try:
            ssock = ctx.wrap_socket(sock, server_hostname=server_name, do_handshake_on_connect=False,
                                    session=session)
        except (OSError, ValueError) as exc:
            if self._logs():
                log.error(ERR, "lua ssl failed to create connection: %s" % exc)
            return None, self._fail("failed to create ssl connection")
        self._sock = ssock
        self._raw = self._rdirect = self.direct_writer = None
        self._cur_to = UNSET
        self._settimeout(self._ct)
        try:
            ssock.do_handshake()
        except _stdssl.SSLCertVerificationError as exc:
            code = exc.verify_code
            if code == tls.HOSTNAME_MISMATCH:
                if self._logs():
                    log.error(ERR, 'lua ssl certificate does not match host "%s"' % server_name)
                return None, self._fail("certificate host mismatch")
            msg = exc.verify_message
            if self._logs():
                log.error(ERR, "lua ssl certificate verify error: (%d: %s)" % (code, msg))
            return None, self._fail("%d: %s" % (code, msg))
        except _timeout:
            if self._logs():
                log.error(ERR, "lua tcp socket ssl handshake timed out")
            return None, self._fail("timeout")
        except _stdssl.SSLError as exc:
            if self._logs():
                log.error(ERR, "SSL_do_handshake() failed (SSL: %s)" % (exc.reason or exc))
            return None, self._fail("handshake failed")
        except OSError as exc:
            if self._logs():
                log.error(ERR, "SSL_do_handshake() failed (%s)" % _errno_text(exc))
            return None, self._fail("handshake failed")
        self._tls_session = tls.Session(ssock, ctx)
        if log.enabled(DEBUG):
            log.error(DEBUG, "lua ssl handshake done, session reused: %s" % ssock.session_reused)
        if reused_session is False:
            return True, None
        return self._tls_session, None


def _peek_state(sock) -> str:
    """"idle" (nothing pending), "eof" (peer closed) or "data" (unread bytes) without blocking."""
    if hasattr(sock, "_sslobj"):
        try:
            return "data" if sock.pending() else "idle"
        except (OSError, ValueError):
            return "eof"
    try:
        raw = sock._sock if hasattr(sock, "_sock") else sock
        chunk = raw.recv(1, _stdsocket.MSG_PEEK | _stdsocket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return "idle"
    except OSError:
        return "eof"
    return "data" if chunk else "eof"


def _addr_text(addr) -> str:
    if isinstance(addr, tuple):
        host, port = addr[0], addr[1]
        if ":" in host:
            return "[%s]:%d" % (host, port)
        return "%s:%d" % (host, port)
    if isinstance(addr, (str, bytes)):
        return "unix:" + (addr.decode() if isinstance(addr, bytes) else addr)
    return str(addr)


def tcp() -> TCPSocket:
    """`ngx.socket.tcp()`: a new, unconnected cosocket."""
    return TCPSocket()


def connect(host: Union[str, bytes], port: Union[int, Dict[str, Any], None] = None,
            opts: Optional[Dict[str, Any]] = None, **kw: Any) -> Tuple[Optional[TCPSocket], Optional[str]]:
    """`ngx.socket.connect(host, port, opts)` -> (sock, None) or (None, err)."""
    sock = TCPSocket()
    ok, err = sock.connect(host, port, opts, **kw)
    if ok is None:
        return None, err
    return sock, None
