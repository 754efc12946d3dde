"""The byte stream under a cosocket: buffered reads, reads into a caller's buffer, complete sends.

`Stream` is the in-project I/O layer `cosocket.tcp.TCPSocket` is built on
and the only socket API the WebSocket layer uses.  It owns:

* the read buffer (one `bytearray` for the life of the stream, consumed from
  the front) and the reads that fill it: `fill`, `read_exactly`,
  `read_until`, `recv_into` (one read into the caller's buffer) and
  `unread` (give back what the caller did not consume);
* the one decision of how to read: a plain socket with a read timeout is
  read through its raw non-blocking socket, waiting on the worker's deadline
  timer (`cosocket.deadlines`) only when the kernel has nothing; TLS sockets
  (and a zero timeout) go through gevent's `recv`;
* the busy rule: a read while another greenlet reads the same socket answers
  "socket busy reading", a send while another sends "socket busy writing"
  (every read entry point checks `_reading`; `send_parts` checks `_writing`);
* complete sends: `send_parts(head, payload)` hands both to the kernel in one
  call and waits for buffer space for what it did not take.

Failures come back as nginx's error strings and are logged in its words.  A
read timeout leaves the stream usable; any other failed read closes the read
side only (later reads answer "closed", sends still go out), a failed send
closes the write side only, and the connection itself is closed (the
subclass's `_finalize`) once both sides have failed.
"""
from __future__ import annotations

import os
import socket as _stdsocket
import ssl as _stdssl
from typing import Optional, Union

from gevent import socket as gsocket

from . import deadlines, log, runtime
from .deadlines import TIMED_OUT, wait_readable as _wait_fd
from .log import ERR, INFO

_timeout = _stdsocket.timeout
PLAIN_SOCKET = gsocket.socket  # exactly this type (not SSLSocket) is read through its raw `_sock`
#: the timeout a socket was last given, before any was
UNSET = object()


def raw_socket_of(sock):
    """The raw `_socket.socket` under a plain gevent socket (read and written directly), else None (TLS)."""
    return sock._sock if type(sock) is PLAIN_SOCKET else None

#: receive(n) beyond this many missing bytes reads into a buffer of its own (`_read_big`)
BIG_READ = 65536
# ... which starts at most this large and grows as bytes arrive: memory follows what the
# peer sends, never the length it announces
_BIG_READ_START = 1 << 20

# send_parts joins head and payload below this size (one send() of a small copy); from it on
# they go out with sendmsg, the payload never copied (16 KiB echo: -16k instructions a message)
_SENDMSG_MIN = 4096


def strerror(exc: OSError) -> str:
    """nginx's returned error text: strerror, lower-cased (for LuaSocket compatibility)."""
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return "error"


def errno_text(exc: OSError) -> str:
    """`111: Connection refused`, as nginx's logged `(errno: text)`."""
    if exc.errno:
        return "%d: %s" % (exc.errno, os.strerror(exc.errno))
    return str(exc)


def log_errors() -> bool:
    """Whether socket errors are logged (`lua_socket_log_errors`)."""
    return runtime.socket_settings().log_errors


class Stream:
    """Buffered, deadline-bound reads and complete sends over one connected socket.

    Subclasses set `_sock` (a gevent socket), `_raw` (its raw socket when
    plain), the timeouts `_rt`/`_st` and `_request`, call `_settle()` after
    changing any of them, and define `_finalize(keep_buffer)` and
    `_check_request()`.
    """

    __slots__ = ("_sock", "_raw", "rbuf", "_bufsize", "_read_closed", "_write_closed", "_request", "_rt", "_st",
                 "_cur_to",
                 "_reading", "_writing", "_downstream", "_deadline", "_tentry", "_waiter", "drained",
                 "_hard_deadline", "log_errors", "_rdirect", "direct_writer")

    def __init__(self) -> None:
        self._sock = None
        self._raw = None  # the raw _socket.socket under a plain (not TLS) _sock
        self.rbuf = bytearray()
        self._bufsize = 4096
        self._read_closed = False
        self._write_closed = False
        self._request = None
        self._rt = self._st = 60.0
        self._cur_to = UNSET
        self._reading = False
        self._writing = False
        self._downstream = False
        self._deadline = None  # the current read wait's deadline (cosocket.deadlines)
        self._tentry = None
        self._waiter = None
        #: The last read of a plain socket returned less than asked (the kernel had no more): the next
        #: read waits for data before trying.  A direct reader (`direct_read_fd`) sets it after its own reads.
        self.drained = False
        self._hard_deadline = None  # loop time no read wait may pass (plain sockets; the worker's head timer)
        #: Whether failures are logged: None follows lua_socket_log_errors; the server sets False while it
        #: reads a request itself (it reports those failures in nginx's own words)
        self.log_errors: Optional[bool] = None
        # the raw socket while a direct read is allowed but for the busy flag, else None (`_settle`)
        self._rdirect = None
        #: The raw socket a caller may send on itself right now (see `direct_write_fd`), else None
        self.direct_writer = None

    # ------------------------------------------------------------ public API
    def _logs(self) -> bool:
        policy = self.log_errors
        return log_errors() if policy is None else policy

    def set_read_deadline(self, loop_time: Optional[float]) -> None:
        """No read wait goes past `loop_time` (cosocket.deadlines' clock); None lifts the bound."""
        self._hard_deadline = loop_time
        self._settle()

    def _settle(self) -> None:
        """Decide again which sides may take the direct path: called after every change of the socket, its
        sides, its timeouts, its request, its read deadline or the busy mark of its sends (the busy mark of
        reads is checked per call)."""
        raw = self._raw if self._request is None else None
        self._rdirect = raw if not self._read_closed and self._hard_deadline is None and self._rt > 0.0 else None
        self.direct_writer = raw if not self._write_closed and not self._writing and self._st > 0.0 else None

    # `rbuf` (public attribute): the read buffer, bytes read from the peer and not consumed yet.
    # The same bytearray for the life of the stream: a caller may parse it in place and takes
    # bytes out only with `consume` (with no switch to another greenlet in between).

    def consume(self, n: int) -> None:
        """Drop the first `n` buffered bytes (the caller has used them)."""
        del self.rbuf[:n]

    def buffered(self) -> int:
        """Bytes already read from the peer and not yet consumed."""
        return len(self.rbuf)

    def readable(self) -> bool:
        """Whether reads may be attempted: connected and not read to its end."""
        return self._sock is not None and not self._read_closed

    def is_reading(self) -> bool:
        """Whether a read is in progress (another greenlet's read would be "socket busy reading")."""
        return self._reading

    def read_timeout(self) -> float:
        """The read timeout in seconds (what bounds each wait for the peer)."""
        return self._rt

    def is_writing(self) -> bool:
        """Whether a send is in progress (another greenlet's send would be "socket busy writing")."""
        return self._writing

    def hold_writing(self, busy: bool) -> None:
        """Mark a send in progress (True) until released (False): a writer sending one frame in several
        non-blocking sends on `direct_write_fd`'s descriptor keeps other sends out ("socket busy writing")
        between them."""
        self._writing = busy
        self._settle()

    def read_refused(self) -> Optional[str]:
        """Why a read may not start now, or None: every read entry point asks this first.

        "closed" (logged as nginx logs it) on a closed stream or read side;
        "bad request" (RuntimeError) from another request's handler; "socket
        busy reading" while another greenlet reads, so that no bytes are taken
        before a waiting reader has them.
        """
        if self._sock is None or self._read_closed:
            if self._logs():
                log.error(ERR, "attempt to receive data on a closed socket")
            return "closed"
        if self._request is not None:
            self._check_request()
        if self._reading:
            return "socket busy reading"
        return None

    def write_refused(self) -> Optional[str]:
        """Why a send may not start now, or None: every send entry point asks this first.

        "closed" (logged as nginx logs it) on a closed stream or write side;
        "bad request" (RuntimeError) from another request's handler; "socket
        busy writing" while another greenlet sends.
        """
        if self._sock is None or self._write_closed:
            if self._logs():
                log.error(ERR, "attempt to send data on a closed socket")
            return "closed"
        if self._request is not None:
            self._check_request()
        if self._writing:
            return "socket busy writing"
        return None

    def fill(self) -> Optional[str]:
        """Append at least one chunk from the peer to the buffer -> None or an error (closed unless "timeout")."""
        err = self.read_refused()
        if err is not None:
            return err
        return self._fill()

    def recv_into(self, view, wait=None):
        """One read of at most len(view) bytes into the caller's writable buffer -> (count, None) / (None, err).

        For a caller with its own buffer: bytes it does not use go back
        with `unread`.  Waits (the read timeout) when nothing has arrived;
        the buffered bytes must have been taken first (it reads the socket).
        With `wait` (seconds), waits at most that long instead and then
        answers (None, "idle"), not logged, the stream still usable.
        """
        if self._sock is None or self._read_closed or self._request is not None or self._reading:
            err = self.read_refused()
            if err is not None:
                return None, err
        return self._read_once(len(view), view, wait)

    def unread(self, data) -> None:
        """Put bytes a `recv_into` caller did not use at the front of the next read (the buffer was empty)."""
        self.rbuf[:0] = data

    def read_exactly(self, n: int):
        """`n` bytes -> (data, None) / (None, err); `data` is bytes, or for a large read the bytearray it went into.

        On failure the bytes read so far are dropped (as `receive(n)` does).
        """
        err = self.read_refused()
        if err is not None:
            return None, err
        buf = self.rbuf
        if 0 < n <= len(buf):
            data = bytes(buf[:n])
            del buf[:n]
            return data, None
        if n - len(buf) > BIG_READ:
            data, err, _ = self._read_big(n, False)
        else:
            data, err, _ = self._read_bytes(n)
        return data, err

    def read_until(self, delim: bytes, limit: int):
        """Data up to and including `delim` -> (bytes, None) / (None, "too large") / (None, err)."""
        buf = self.rbuf
        dlen = len(delim)
        start = 0
        while True:
            i = buf.find(delim, start)
            if i >= 0:
                end = i + dlen
                if end > limit:
                    return None, "too large"
                data = bytes(buf[:end])
                del buf[:end]
                return data, None
            if len(buf) >= limit:
                return None, "too large"
            if self._sock is None or self._read_closed:
                return None, "closed"
            start = max(0, len(buf) - dlen + 1)
            err = self._fill()
            if err is not None:
                return None, err

    def send_parts(self, head: bytes, payload: bytes = b""):
        """Send `head + payload` whole -> (len, None) / (None, err); large payloads are not joined (sendmsg).

        Answers "closed" on a closed stream and "socket busy writing" while
        another greenlet sends.
        """
        if self._sock is None or self._write_closed or self._request is not None or self._writing:
            err = self.write_refused()
            if err is not None:
                return None, err
        sock = self._sock
        n = len(head) + len(payload)
        if type(sock) is PLAIN_SOCKET and n < _SENDMSG_MIN:
            # one send() on the raw socket; no other greenlet runs before it returns, so
            # only a partial send needs the busy flag and the waiting completion
            data = head + payload  # (b"" + payload is payload itself)
            try:
                sent = sock._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                return None, self._send_failed(exc)
            if sent == n:
                return n, None
            return self._send_all(sock, data, n, None, sent)
        if not n:
            return 0, None
        if type(sock) is not PLAIN_SOCKET or not head:
            return self._send_all(sock, head + payload if head else payload, n, None)
        return self._send_all(sock, payload, n, head)

    # ------------------------------------------------------ the direct path
    def direct_read_fd(self, wait=None) -> Union[int, str]:
        """The file descriptor a caller may read itself right now, -1, or why no read can be made.

        With `direct_write_fd`, the one "direct path allowed" decision: a
        plain (not TLS) socket with a non-zero timeout, its side open, no read
        in progress, not a request's own socket, no read deadline over the
        timeout.  When the last read emptied the kernel's buffer (`drained`),
        it first waits for the peer's next bytes (at most the read timeout;
        with `wait`, at most that many seconds); a wait that fails comes back
        as its text instead of a descriptor: "timeout" (logged), "idle" (the
        `wait` passed; not logged, the stream still usable), "closed", or a
        failed recv()'s text.  The caller makes one non-blocking recv() on the
        descriptor with no switch to another greenlet before it, and reports
        back: `drained` when the read came short or found nothing (the next
        call waits first), `direct_read_failed` with the errno of a failure.
        With -1 it takes the general path (`recv_into`), which answers busy,
        closed and the rest.
        """
        raw = self._rdirect
        if raw is None or self._reading:
            return -1
        if self.drained:
            self._reading = True  # another greenlet's read meanwhile is "socket busy reading"
            try:
                woke = _wait_fd(self, self._sock._read_event, self._rt if wait is None else wait)
            except OSError as exc:  # the socket closed by another greenlet meanwhile
                return self._read_failed(exc)
            finally:
                self._reading = False
            if woke is TIMED_OUT:
                return self.read_timed_out() if wait is None else "idle"
            raw = self._rdirect
            if raw is None:  # changed while waiting
                if self._raw is None or self._read_closed:
                    return "closed"
                self.drained = False  # (bytes have come: the general path reads them at once)
                return -1
        return raw.fileno()  # (-1 once the socket was closed under the stream)

    def direct_write_fd(self) -> int:
        """The file descriptor a caller may send on itself right now, or -1 (see `direct_read_fd`).

        A plain socket with a non-zero send timeout, its write side open, no
        send in progress, not a request's own socket.  The caller makes one
        non-blocking send() and reports back: `send_rest` for what it did not
        take, `direct_send_failed` with the errno of a failure.  With -1 it
        takes the general path (`send_parts`).  `direct_writer` holds the same
        decision as the raw socket itself (None: take the general path), for
        a caller that asks it on every message.
        """
        raw = self.direct_writer  # (the same decision, as the socket itself)
        return -1 if raw is None else raw.fileno()

    def direct_read_failed(self, errno: int) -> str:
        """A direct read failed with `errno` (0: the peer closed): log it as nginx does, close the read side
        -> the error's text ("closed" at the end of the stream)."""
        if not errno:
            return self._fail_read("closed")
        return self._read_failed(OSError(errno, os.strerror(errno)))

    def direct_send_failed(self, errno: int) -> str:
        """A direct send failed with `errno`: log it as nginx does, close the write side -> the error's text."""
        return self._send_failed(OSError(errno, os.strerror(errno)))

    def send_rest(self, head: bytes, payload: bytes, sent: int):
        """Finish sending `head + payload` of which a direct send took the first `sent` bytes (waiting for
        buffer space as `send_parts` does) -> (len, None) / (None, err)."""
        return self._send_all(self._sock, payload, len(head) + len(payload), head, sent)

    def abort(self) -> None:
        """Close the connection now, whatever its state (a request's own socket too)."""
        self._finalize()

    # --------------------------------------------------------------- failures
    def _read_error(self, exc: OSError) -> str:
        """Log a failed read in nginx's words and name it: "timeout", "closed" or the errno's text."""
        if isinstance(exc, _timeout):
            return self.read_timed_out()
        if self._logs():
            log.error(self._io_log_level(), "recv() failed (%s)" % errno_text(exc))
        return "closed" if isinstance(exc, _stdssl.SSLError) else strerror(exc)

    def _io_log_level(self) -> int:
        """nginx logs a failed recv()/send() at info on the client's own connection, at error on upstream ones."""
        return INFO if self._downstream else ERR

    def _fail(self, err: str) -> str:
        """Close the whole connection (a failed TLS handshake) -> `err`."""
        self._finalize(keep_buffer=True)
        return err

    def _fail_read(self, err: str) -> str:
        """A read failed (not a timeout): close the read side; the connection once both sides failed -> `err`."""
        self._read_closed = True
        self._rdirect = None
        if self._write_closed:
            self._finalize(keep_buffer=True)
        return err

    def _fail_write(self, err: str) -> str:
        """A send failed: close the write side; the connection once both sides failed -> `err`."""
        self._write_closed = True
        self.direct_writer = None
        if self._read_closed:
            self._finalize(keep_buffer=True)
        return err

    def read_timed_out(self) -> str:
        """Log a read timeout as nginx does -> "timeout" (the socket stays open)."""
        if self._logs():
            log.error(ERR, "lua tcp socket read timed out")
        return "timeout"

    def _read_failed(self, exc: OSError) -> str:
        """Log a failed recv() of a plain socket, close it -> the error's text."""
        if self._logs():
            log.error(self._io_log_level(), "recv() failed (%s)" % errno_text(exc))
        return self._fail_read(strerror(exc))

    def _send_failed(self, exc: OSError) -> str:
        """Log a failed send() as nginx does, close the socket -> the error's text."""
        if self._logs():
            log.error(self._io_log_level(), "send() failed (%s)" % errno_text(exc))
        return self._fail_write(strerror(exc))

    # ------------------------------------------------------------------ reads
    def _settimeout(self, seconds: float) -> None:
        if self._cur_to != seconds:
            self._sock.settimeout(seconds)
            self._cur_to = seconds

    def _fill(self, want: int = 0) -> Optional[str]:
        """Append at least one chunk from the peer to the buffer -> None or an error (socket closed unless timeout)."""
        chunk, err = self._read_once(want if want > self._bufsize else self._bufsize, None)
        if err is None:
            self.rbuf += chunk
        return err

    def _recv(self, size: int):
        """One chunk of at most `size` bytes from the peer -> (bytes, None) or (None, err) (closed unless timeout)."""
        return self._read_once(size, None)

    def _read_once(self, size: int, view, wait=None):
        """One recv() of at most `size` bytes, into `view` when given -> (bytes or count, None) / (None, err).

        Every read of the stream comes here: the busy check, the raw read of
        a plain socket and the wait on the deadline timer.
        """
        if self._reading:
            return None, "socket busy reading"
        sock = self._sock
        self._reading = True
        try:
            if type(sock) is PLAIN_SOCKET and self._rt > 0:
                raw = sock._sock
                if self.drained:
                    # the last read emptied the kernel's buffer: wait before trying (as nginx's
                    # rev->ready = 0), which saves a recv() failing with EAGAIN per message
                    self.drained = False
                    if wait is not None:
                        seconds = wait
                    else:
                        seconds = self._rt if self._hard_deadline is None else self._wait_seconds()
                    if deadlines.wait_readable(self, sock._read_event, seconds) is deadlines.TIMED_OUT:
                        raise _timeout("timed out")
                while True:
                    try:
                        if view is None:
                            chunk = raw.recv(size)
                            got = len(chunk)
                        else:
                            chunk = got = raw.recv_into(view)
                        break
                    except BlockingIOError:
                        # one timer per worker, not a gevent.Timeout per wait (cosocket.deadlines)
                        if deadlines.wait_readable(self, sock._read_event,
                                                   self._wait_seconds() if wait is None else wait) \
                                is deadlines.TIMED_OUT:
                            raise _timeout("timed out") from None
                if got < size:
                    self.drained = True
            else:
                seconds = self._rt if wait is None else wait
                if self._cur_to != seconds:
                    sock.settimeout(seconds)
                    self._cur_to = seconds
                chunk = sock.recv(size) if view is None else sock.recv_into(view)
        except _timeout:
            return None, self.read_timed_out() if wait is None else "idle"
        except _stdssl.SSLError as exc:
            if self._logs():
                log.error(self._io_log_level(), "SSL_read() failed (SSL: %s)" % (exc.reason or exc))
            return None, self._fail_read("closed")
        except OSError as exc:
            return None, self._read_failed(exc)
        finally:
            self._reading = False
        if not chunk:
            return None, self._fail_read("closed")
        return chunk, None

    def _wait_seconds(self) -> float:
        """How long the next read wait may last: the read timeout, cut at `_hard_deadline` if set."""
        hard = self._hard_deadline
        if hard is None:
            return self._rt
        left = hard - deadlines.loop_now()
        return left if left < self._rt else self._rt

    def _read_bytes(self, n: int):
        if n < 0:
            raise TypeError("bad argument #1 to 'receive' (bad number argument)")
        if n == 0:
            return b"", None, None
        buf = self.rbuf
        missing = n - len(buf)
        if missing > BIG_READ:
            return self._read_big(n)
        if missing >= self._bufsize:
            return self._read_chunks(n, missing)
        while len(buf) < n:
            err = self._fill(n - len(buf))
            if err is not None:
                partial = bytes(buf)
                buf.clear()
                return None, err, partial
        data = bytes(buf[:n])
        del buf[:n]
        return data, None, None

    def _read_chunks(self, n: int, missing: int):
        """`n` bytes of which `missing` are still in the kernel: read exactly those, join once."""
        buf = self.rbuf
        parts = [bytes(buf)] if buf else []
        buf.clear()
        while missing:
            chunk, err = self._recv(missing)
            if err is not None:
                return None, err, b"".join(parts)
            parts.append(chunk)
            missing -= len(chunk)
        return (parts[0] if len(parts) == 1 else b"".join(parts)), None, None

    def _read_big(self, n: int, as_bytes: bool = True):
        """`n` bytes read into a bytearray that grows as they arrive -> (data, None, None) / (None, err, partial)."""
        buf = self.rbuf
        got = len(buf)
        out = bytearray(min(n, max(_BIG_READ_START, got)))
        out[:got] = buf
        buf.clear()
        if self._reading:
            return None, "socket busy reading", bytes(out[:got])
        sock = self._sock
        self._settimeout(self._rt)
        self._reading = True
        err = None
        try:
            while got < n:
                if got == len(out):
                    out += bytes(min(len(out), n - got))  # double, at most to n
                with memoryview(out) as view:
                    k = sock.recv_into(view[got:])
                if k == 0:
                    err = "closed"
                    break
                got += k
        except OSError as exc:  # socket.timeout included
            err = self._read_error(exc)
        finally:
            self._reading = False
        if err is None:
            return (bytes(out) if as_bytes else out), None, None
        partial = bytes(out[:got])
        if err != "timeout":
            self._fail_read(err)
        return None, err, partial

    # ------------------------------------------------------------------ sends
    def _send_all(self, sock, payload: bytes, n: int, head, sent=None):
        """Send `payload` (after `head` when given: n counts both) -> (n, None) or (None, err).

        `sent`: how many of the n bytes a first send already took (the partial-send completion).
        """
        if self._cur_to != self._st:
            sock.settimeout(self._st)
            self._cur_to = self._st
        self._writing = True
        self.direct_writer = None
        try:
            if sent is not None:
                pass
            elif type(sock) is PLAIN_SOCKET:
                try:
                    sent = sock._sock.send(payload) if head is None else sock._sock.sendmsg((head, payload))
                except BlockingIOError:
                    sent = 0
            else:
                sent = sock.send(payload)
            if sent < n:
                # the partial-send completion: wait for buffer space for the rest (gevent's send)
                if head is not None:
                    while sent < len(head):
                        sent += sock.send(head[sent:])
                    sent -= len(head)
                    n -= len(head)
                view = memoryview(payload)
                while sent < n:
                    sent += sock.send(view[sent:])
                if head is not None:
                    n += len(head)
        except _timeout:
            if self._logs():
                log.error(ERR, "lua tcp socket write timed out")
            return None, self._fail_write("timeout")
        except OSError as exc:
            return None, self._send_failed(exc)
        finally:
            self._writing = False
            self._settle()
        return n, None
