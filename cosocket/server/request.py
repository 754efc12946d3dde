"""The request state: one HTTP request on a connection, its response headers, output and finalization.

`Request` holds what the connection parsed (`head`, body framing), the
location it was routed to, and the response being built: status, headers,
buffered output, keep-alive.  Output is buffered until the handler flushes
or ends, so a complete response goes out with a Content-Length;
`ngx.flush()` (or a large output) sends the head first and the body chunked
(HTTP/1.1) or close-delimited (HTTP/1.0).  The ngx API over it lives in
`output` (ngx.say, ngx.exit, ngx.header ...), `req` (ngx.req.*), `var`
(ngx.var) and `shared` (ngx.shared).
"""
from __future__ import annotations

import binascii
import os
import re
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from .. import log, runtime
from . import accesslog, response
from .body import BodyError, read_body as _read_request_body
from .h1 import RequestHead, parse_decimal
from ..runtime import NgxExit

if TYPE_CHECKING:
    from ..tcp import TCPSocket

#: Output buffered before the head is sent; past this the response goes out chunked.
OUTPUT_BUFFER_LIMIT = 65536


def canonical_name(name: str) -> str:
    return name.replace("_", "-")


# lua-nginx-module percent-escapes what would break the response head (ngx_http_lua_copy_escaped_header):
# in values, control bytes but tab, and DEL (so CR LF cannot inject a header); in names, also spaces,
# separators and bytes above 0x7f.
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r'[\x00-\x20"(),/:;<=>?@\[\\\]{}\x7f-\xff]')


def _percent(m) -> str:
    return "%%%02X" % (ord(m.group()) & 0xFF)


def escape_header(text: str, is_name: bool) -> str:
    """A response header name or value made safe for the head as lua-nginx-module does (`\r\n` -> `%0D%0A`)."""
    pattern = _UNSAFE_NAME if is_name else _UNSAFE_VALUE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_percent, text)


#: Header names as a handler gives them -> (name as sent, its lower-case key): handlers set the same
#: few names on every request.  Bounded: names made up per request do not grow it past the limit.
_names: Dict[str, Tuple[str, str]] = {}
_NAMES_LIMIT = 512


def _header_name(name: str) -> Tuple[str, str]:
    entry = _names.get(name)
    if entry is None:
        sent = escape_header(canonical_name(name), True)
        entry = (sent, sent.lower())
        if len(_names) < _NAMES_LIMIT:
            _names[name] = entry
    return entry


#: Response headers the head writes itself (from the request state), whatever the handler set.
_WRITTEN_ABOVE = frozenset(("content-type", "connection", "transfer-encoding"))


class ResponseHeaders:
    """Response headers: case-insensitive, ordered, a value is a str or a list of str."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: Dict[str, Tuple[str, Any]] = {}

    def get(self, name: str):
        item = self._items.get(_header_name(name)[1])
        return item[1] if item is not None else None

    def set(self, name: str, value) -> None:
        name, key = _header_name(name)
        if value.__class__ is str:  # the common case first: printable ASCII needs no escaping
            if not (value.isascii() and value.isprintable()) and _UNSAFE_VALUE.search(value) is not None:
                value = _UNSAFE_VALUE.sub(_percent, value)
        elif value is None or (isinstance(value, (list, tuple)) and not value):
            self._items.pop(key, None)
            return
        elif isinstance(value, (list, tuple)):
            value = [_header_value(v) for v in value]
        else:
            value = _header_value(value)
        old = self._items.get(key)
        self._items[key] = (old[0] if old is not None else name, value)

    def put(self, name: str, key: str, value: Optional[str]) -> None:
        """set() for a name and value known to be safe (`key` is the name in lower case; None removes it)."""
        if value is None:
            self._items.pop(key, None)
            return
        old = self._items.get(key)
        self._items[key] = (old[0] if old is not None else name, value)

    def has(self, lower_name: str) -> bool:
        return lower_name in self._items

    def entries(self) -> List[Tuple[str, str, Any]]:
        """[(lower-case key, name, value or list of values)] in the order first set."""
        return [(key, name, value) for key, (name, value) in self._items.items()]

    def items(self) -> List[Tuple[str, str]]:
        out: List[Tuple[str, str]] = []
        for name, value in self._items.values():
            if isinstance(value, list):
                out.extend((name, v) for v in value)
            else:
                out.append((name, value))
        return out


def _header_value(value) -> str:
    if isinstance(value, bytes):
        return escape_header(value.decode("latin-1"), False)
    if isinstance(value, str):
        return escape_header(value, False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        from ..text import lua_number
        return lua_number(value)
    raise TypeError("bad argument #3 to 'ngx.header' (string, number or table expected)")




class _ThreadSet:
    """The set of a request's live light threads, holding no set until one is added (most requests spawn none)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set: Optional[set] = None

    def add(self, item) -> None:
        if self._set is None:
            self._set = set()
        self._set.add(item)

    def discard(self, item) -> None:
        if self._set is not None:
            self._set.discard(item)

    def remove(self, item) -> None:
        if self._set is None:
            raise KeyError(item)
        self._set.remove(item)

    def clear(self) -> None:
        if self._set is not None:
            self._set.clear()

    def __contains__(self, item) -> bool:
        return self._set is not None and item in self._set

    def __iter__(self):
        return iter(self._set) if self._set is not None else iter(())

    def __len__(self) -> int:
        return len(self._set) if self._set is not None else 0

    def __bool__(self) -> bool:
        return bool(self._set)

    def __repr__(self) -> str:
        return "{%s}" % ", ".join(map(repr, self)) if self else "set()"


class Request:
    """One HTTP request on a connection, with its response state."""

    # slots keep an idle WebSocket's request small; "__dict__" (created only when used) still
    # takes any other attribute a handler or a module hangs on it
    __slots__ = ("conn", "socket", "connection_number", "head", "server", "settings", "location", "threads",
                 "_ctx", "start_time", "status", "out_headers", "mime_set", "headers_sent", "_out", "_out_len",
                 "seen_body", "chunked", "close_delimited", "eof", "header_only", "raw_acquired", "keepalive",
                 "broken", "send_error", "body", "body_state", "body_bytes_sent", "abort_handler", "_request_id",
                 "server_name_matched", "framing", "__dict__", "__weakref__")

    def __init__(self, conn, head: RequestHead, server, settings, framing=(None, False)) -> None:
        self.conn = conn
        self.socket = conn.sock
        self.connection_number: int = conn.number
        self.head = head
        self.framing = framing  # (Content-Length or None, chunked), as h1.body_framing decided
        self.server = server  # ServerConf
        self.settings = settings  # the matched location's HttpSettings (server's until matched)
        self.location = None
        self.threads = _ThreadSet()
        self._ctx: Optional[Dict] = None
        self.start_time = time.time()
        self.status = 0
        self.out_headers = ResponseHeaders()
        self.mime_set = False
        self.headers_sent = False
        self._out: List[bytes] = []
        self._out_len = 0
        self.seen_body = False
        self.chunked = False
        self.close_delimited = False
        self.eof = False
        self.header_only = head.method == "HEAD"
        self.raw_acquired = False
        self.keepalive = _wants_keepalive(head)
        self.broken = False
        self.send_error: Optional[str] = None  # "timeout" / "client aborted" once a write failed
        self.body: Optional[bytes] = None
        self.body_state = "none" if not self._has_body() else "unread"
        self.body_bytes_sent = 0
        self.abort_handler: Optional[Callable[[], Any]] = None
        self._request_id: Optional[str] = None
        self.server_name_matched = None

    @property
    def ctx(self) -> Dict:
        """ngx.ctx: a dict made on first use."""
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = {}
        return ctx

    @ctx.setter
    def ctx(self, value: Dict) -> None:
        self._ctx = value

    # -- context for the error log -----------------------------------------
    def log_context(self) -> str:
        """`, client: 127.0.0.1, server: localhost, request: "GET / HTTP/1.1", host: "..."`."""
        parts = [", client: ", self.conn.remote_addr, ", server: ", self.server_name()]
        if self.head.request_line:
            parts.extend((', request: "', self.head.request_line, '"'))
        host = self.head.get("host")
        if host is not None:
            parts.append(', host: "%s"' % host)
        return "".join(parts)

    def server_name(self) -> str:
        names = self.server.server_names if self.server is not None else None
        return names[0] if names else ""

    # -- request body --------------------------------------------------------
    def _has_body(self) -> bool:
        length, chunked = self.framing
        return chunked or bool(length)

    def content_length(self) -> Optional[int]:
        """The body's Content-Length (None when it has none, -1 when invalid)."""
        cl = self.head.get("content-length")
        return None if cl is None else parse_decimal(cl)

    def is_chunked(self) -> bool:
        """Whether the body comes in chunked coding."""
        return self.framing[1]

    def read_body(self) -> None:
        """Read the whole body once (ngx.req.read_body); a failure ends the request like nginx."""
        if self.body_state != "unread":
            return
        if (self.head.get("expect") or "").lower() == "100-continue" and self.head.http_version >= 1.1:
            self.socket.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        s = self.settings
        self.socket.settimeouts(s.socket.connect_timeout, s.send_timeout, s.client_body_timeout)
        sock = self.socket
        sock.log_errors = False  # a failed read is reported below in nginx's words
        try:
            self.body = _read_request_body(sock, self.framing[0], self.framing[1], s.client_max_body_size)
        except BodyError as exc:
            sock.log_errors = None
            self.body_state = "failed"
            self.keepalive = False
            if exc.log_msg:
                log.error(log.INFO if exc.status in (0, 408) else log.ERR, exc.log_msg)
            if exc.status in (0, 408):
                # nginx terminates the request: no response, the connection is closed
                self.broken = True
                if exc.status == 408 and not self.headers_sent:
                    self.status = 408
                raise NgxExit(444) from None
            raise NgxExit(exc.status) from None
        finally:
            sock.log_errors = None
        self.body_state = "read"

    def discard_body(self) -> bool:
        """Drop an unread body so the connection can serve the next request; False if it cannot."""
        if self.body_state != "unread":
            return self.body_state != "failed"
        try:
            self.read_body()
        except NgxExit:
            return False
        self.body = None
        self.body_state = "discarded"
        return True

    # -- response ---------------------------------------------------------------
    def _response_headers(self, content_length: Optional[int]) -> List[Tuple[str, str]]:
        s = self.settings
        status = self.status or 200
        headers = [("Server", response.server_header(s.server_tokens)), ("Date", response.http_date())]
        oh = self.out_headers
        if status != 101 and status != 204 and status != 304:
            if not self.mime_set:
                ctype = getattr(s, "default_type", "text/plain")
                if ctype:
                    headers.append(("Content-Type", ctype))
            elif oh.has("content-type"):
                headers.append(("Content-Type", oh.get("content-type")))
            if not oh.has("content-length") and not self.chunked and content_length is not None:
                headers.append(("Content-Length", str(content_length)))
        if self.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        if status == 101:
            headers.append(("Connection", "upgrade"))
        elif self.keepalive:
            headers.append(("Connection", "keep-alive"))
        else:
            headers.append(("Connection", "close"))
        for key, name, value in oh.entries():
            if key in _WRITTEN_ABOVE:
                continue
            if key == "server" or key == "date":
                headers = [h for h in headers if h[0].lower() != key]
            if value.__class__ is list:
                headers.extend([(name, v) for v in value])
            else:
                headers.append((name, value))
        return headers

    def send_head(self, complete: bool) -> bool:
        """Send the response head; `complete`: the buffered output is the whole body."""
        if self.headers_sent:
            return True
        self.headers_sent = True
        status = self.status or 200
        self.status = status
        if self.raw_acquired:
            return True
        if runtime.worker.exiting:
            self.keepalive = False
        length = None
        if self.header_only or status in (101, 204, 304):
            length = self._out_len if complete and status not in (101, 204, 304) else None
        elif self.out_headers.has("content-length"):
            pass
        elif complete:
            length = self._out_len
        elif self.head.http_version >= 1.1:
            self.chunked = True
        else:
            self.close_delimited = True
            self.keepalive = False
        if status == 101:
            self.keepalive = False
        if self.head.http_version < 1.0:
            self.keepalive = False  # HTTP/0.9: the bare body, then the connection closes
            return True
        head = response.build_head("HTTP/1.1", status, self._response_headers(length))
        if self.header_only or status in (101, 204, 304):
            self._out.clear()
            self._out_len = 0
            return self._write(head)
        return self._write(head)

    def _write(self, data: bytes) -> bool:
        if self.broken:
            return False
        sock = self.socket
        sock.log_errors = False  # a failed write is reported below in nginx's words
        try:
            _n, err = sock.send(data)
        finally:
            sock.log_errors = None
        if err is not None:
            self.broken = True
            self.keepalive = False
            self.send_error = "timeout" if err == "timeout" else "client aborted"
            log.error(log.INFO, "client prematurely closed connection while sending response to client"
                      if err != "timeout" else
                      "client timed out (110: Connection timed out) while sending response to client")
            return False
        return True

    def output(self, data: bytes) -> Tuple[Optional[int], Optional[str]]:
        """ngx.print/ngx.say: buffer or send `data`."""
        if self.raw_acquired:
            return None, "raw request socket acquired"
        if self.eof:
            return None, "seen eof"
        if self.header_only and self.headers_sent:
            return None, "header only"
        if not data:
            return 1, None
        self.seen_body = True
        if self.header_only:
            self._out_len += len(data)
            return 1, None
        if not self.headers_sent:
            self._out.append(data)
            self._out_len += len(data)
            if self._out_len > OUTPUT_BUFFER_LIMIT:
                self._send_buffered()
            return 1, None
        ok = self._write(response.chunk(data) if self.chunked else data)
        self.body_bytes_sent += len(data)
        return (1, None) if ok else (None, "nginx output filter error")

    def send_pending(self) -> bool:
        """Send the output still buffered (the head first if needed); False when the write failed."""
        return not self._out or self._send_buffered()

    def _send_buffered(self) -> bool:
        if not self.send_head(complete=False):
            return False
        if not self._out:
            return True
        data = b"".join(self._out)
        self._out.clear()
        self._out_len = 0
        self.body_bytes_sent += len(data)
        return self._write(response.chunk(data) if self.chunked else data)

    def flush(self, wait: bool = False) -> Tuple[Optional[int], Optional[str]]:
        """ngx.flush: send the head (if needed) and the buffered output now."""
        if self.raw_acquired:
            return None, "raw request socket acquired"
        if self.header_only and self.headers_sent:
            return None, "header only"
        if self.eof:
            return None, "seen eof"
        if self.broken and self.send_error:
            return None, self.send_error if wait else "nginx output filter error"
        if not self.headers_sent and not self._out:
            return None, "nothing to flush"
        if self.headers_sent and not self.seen_body and not wait:
            return None, "nothing to flush"
        if not self._send_buffered():
            # ngx.flush(true) reports why the wait ended, as lua-nginx-module's flush resume does
            return None, (self.send_error or "client aborted") if wait else "nginx output filter error"
        return 1, None

    def send_eof(self) -> Tuple[Optional[int], Optional[str]]:
        """ngx.eof and the normal end of a handler: complete the response body."""
        if self.raw_acquired:
            return None, "raw request socket acquired"
        if self.eof:
            return None, "seen eof"
        self.eof = True
        if not self.headers_sent:
            if not self.send_head(complete=True):
                return None, "nginx output filter error"
            if self._out and not self.header_only:
                data = b"".join(self._out)
                self._out.clear()
                self.body_bytes_sent += len(data)
                if not self._write(data):
                    return None, "nginx output filter error"
            self._out_len = 0
            return 1, None
        if self.chunked and not self._write(response.LAST_CHUNK):
            return None, "nginx output filter error"
        return 1, None

    def send_special(self, status: int, location: Optional[str] = None) -> None:
        """An nginx error or redirect page for `status` (494..497: the special 400 pages)."""
        page_status = status
        self.status = 400 if status in response.SPECIAL_400 else status
        self._out.clear()
        self._out_len = 0
        self.seen_body = False
        if status in response.CLOSING_STATUSES:
            self.keepalive = False
        self.out_headers = ResponseHeaders()
        if location is not None:
            self.out_headers.set("Location", location)
        body = response.error_page(page_status, self.settings.server_tokens)
        self.mime_set = True
        if body:
            self.out_headers.set("Content-Type", "text/html")
        self._out.append(body)
        self._out_len = len(body)
        self.send_eof()

    def finalize(self, status: Optional[int]) -> None:
        """End the request as lua-nginx-module ends a content handler that returned or called ngx.exit."""
        token = runtime.current_request.set(self)  # what it logs carries the request's context
        try:
            self._finalize(status)
        finally:
            runtime.current_request.reset(token)

    def _finalize(self, status: Optional[int]) -> None:
        if self.raw_acquired:
            self.keepalive = False
            return
        if status is None or status == 0:
            if not self.eof:
                self.send_eof()
            return
        if status == 444 or status == -1:
            self.keepalive = False
            self.broken = True
            if not self.status:
                self.status = 444 if status == 444 else 500
            return
        sent = self.headers_sent or self.seen_body
        if sent and status >= 300 and status not in (408, 499):
            current = self.status or 200
            if status != current:
                log.error(log.ERR, "attempt to set status %d via ngx.exit after sending out the "
                          "response status %d" % (status, current))
            if not self.eof:
                self.send_eof()
            return
        if status >= 300 or (status >= 200 and status < 300 and not sent):
            if status >= 300:
                self.send_special(status, self.out_headers.get("location"))
            else:
                self.status = status
                if not self.eof:
                    self.send_eof()
            return
        if not self.eof:
            self.send_eof()

    def finalize_error(self) -> None:
        """End a request whose handler raised: a 500 page, or a cut connection if the head is out."""
        if self.raw_acquired or self.headers_sent:
            self.keepalive = False
            self.broken = True  # the client sees a truncated response, as with nginx
            if not self.status:
                self.status = 500
            return
        self.send_special(500)

    # -- variables --------------------------------------------------------------
    @property
    def request_id(self) -> str:
        if self._request_id is None:
            self._request_id = binascii.hexlify(os.urandom(16)).decode()
        return self._request_id

    def access_log(self, now: Optional[float] = None) -> bytes:
        """This request's line in the combined format."""
        return accesslog.combined_line(self.conn.remote_addr, self.head.request_line, self.status or 0,
                                  self.body_bytes_sent, self.head.get("referer"),
                                  self.head.get("user-agent"), now or time.time())


def _wants_keepalive(head) -> bool:
    # as nginx: each Connection line naming "close" (else "keep-alive") overrides the ones before it
    choice = None
    value = head.get("connection")
    if value is None:
        pass
    elif not head.repeated("connection"):
        value = value.lower()
        if "close" in value:
            choice = "close"
        elif "keep-alive" in value:
            choice = "keep-alive"
    else:
        for name, value in head.headers:
            if len(name) != 10 or name.lower() != "connection":
                continue
            value = value.lower()
            if "close" in value:
                choice = "close"
            elif "keep-alive" in value:
                choice = "keep-alive"
    if head.http_version >= 1.1:
        return choice != "close"
    return choice == "keep-alive"


# ---------------------------------------------------------------------------
# Handing the connection over (WebSocket upgrades, ngx.req.socket(true))

def upgrade(r: Request, headers: List[Tuple[str, Optional[str]]]):
    """Answer `r` with 101 and `headers`, then hand over its raw socket -> `(sock, err)`.

    `headers` are (name, value) pairs set on the response; a None value removes
    the header (so `("Content-Type", None)` sends none, as a Lua handler setting
    `ngx.header.content_type = nil` does).  The head is sent and flushed with no
    Content-Length, then the connection belongs to the caller as with
    `ngx.req.socket(true)`.  Errors are lua-nginx-module's strings.
    """
    if r.headers_sent:
        return None, "response header already sent"
    for name, value in headers:
        r.out_headers.set(name, value)
    r.mime_set = True
    r.status = 101
    if not r.send_head(complete=False):
        return None, "failed to send response header: nginx output filter error"
    ok, err = r.flush(True)
    if not ok:
        return None, "failed to flush response header: %s" % (err or "unknown")
    sock, err = acquire_raw_socket(r)
    if sock is None:
        return None, err
    r.head.compact()  # the handshake is over: keep the header block, not its parsed form
    return sock, None


def acquire_raw_socket(r: Request) -> Tuple[Optional[TCPSocket], Optional[str]]:
    """`ngx.req.socket(true)` for request `r` -> (sock, err)."""
    if r.close_delimited and not r.headers_sent:
        return None, "http 1.0 buffering"
    if r.raw_acquired:
        return None, "duplicate call"
    if not r.send_pending():
        return None, "pending data to write"
    r.headers_sent = True
    r.raw_acquired = True
    # from now on the handler owns the socket: the lua_socket_* timeouts apply, as in nginx
    r.socket.settimeouts(0, 0, 0)
    r.keepalive = False
    if r.body_state == "unread":
        r.body_state = "raw"
    if not r.status:
        r.status = 200
    return r.socket, None
