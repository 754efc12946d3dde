"""HTTP/1.x on the wire: request heads and bodies in, response heads and pages out.

Reading goes through the connection's cosocket (`TCPSocket`), so the bytes
a client pipelines after its head stay in the one buffer that
`ngx.req.socket(True)` later hands to the handler.  The head is read with
at most three `_read_until` calls and parsed with plain splits.

Limits follow nginx: a request line longer than one
`large_client_header_buffers` buffer is a 414, a longer header line or a
head larger than all the buffers is a 400 "Request Header Or Cookie Too
Large", a body over `client_max_body_size` is a 413.
"""
from __future__ import annotations

import os
import time
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote_to_bytes

from .. import __version__

#: Status lines as nginx writes them (ngx_http_status_lines).
REASONS: Dict[int, str] = {
    100: "Continue", 101: "Switching Protocols",
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
    301: "Moved Permanently", 302: "Moved Temporarily", 303: "See Other", 304: "Not Modified",
    307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Not Allowed", 406: "Not Acceptable", 408: "Request Time-out",
    409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Large", 415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable", 421: "Misdirected Request", 429: "Too Many Requests",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
    505: "HTTP Version Not Supported", 507: "Insufficient Storage",
}

#: Error-page titles where nginx's page differs from its status line.
_PAGE_TITLES = {302: "302 Found"}
#: nginx's special 400 pages (ngx_http_error_494_page and friends): (title, detail).
SPECIAL_400 = {
    494: "Request Header Or Cookie Too Large",
    495: "The SSL certificate error",
    496: "No required SSL certificate was sent",
    497: "The plain HTTP request was sent to HTTPS port",
}
#: Statuses after which nginx closes the connection (ngx_http_special_response_handler).
CLOSING_STATUSES = frozenset((400, 408, 413, 414, 494, 495, 496, 497, 500, 501))


def server_header(tokens: bool) -> str:
    return "cosocket/" + __version__ if tokens else "cosocket"


def status_line(status: int) -> str:
    reason = REASONS.get(status)
    if reason is None:
        return "%03d " % status  # nginx writes unknown codes with an empty reason
    return "%d %s" % (status, reason)


def error_page(status: int, tokens: bool) -> bytes:
    """nginx's built-in HTML page for `status` (494..497 are the special 400 pages); b"" if it has none."""
    tail = "<hr><center>%s</center>\r\n</body>\r\n</html>\r\n" % server_header(tokens)
    if status in SPECIAL_400:
        detail = SPECIAL_400[status]
        return ("<html>\r\n<head><title>400 %s</title></head>\r\n<body>\r\n"
                "<center><h1>400 Bad Request</h1></center>\r\n<center>%s</center>\r\n" % (detail, detail)
                + tail).encode()
    if status < 300 or status not in REASONS:
        return b""
    if status == 304:
        return b""
    title = _PAGE_TITLES.get(status) or status_line(status)
    return ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
            % (title, title) + tail).encode()


_date_cache = [0, ""]


def http_date(now: Optional[float] = None) -> str:
    """`Wed, 25 Nov 2026 10:00:00 GMT`, computed once per second."""
    sec = int(now if now is not None else time.time())
    if _date_cache[0] != sec:
        _date_cache[0] = sec
        _date_cache[1] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(sec))
    return _date_cache[1]


def build_head(version: str, status: int, headers: List[Tuple[str, str]]) -> bytes:
    """The response head: status line, headers in order, blank line."""
    parts = ["%s %s\r\n" % (version, status_line(status))]
    for name, value in headers:
        parts.append("%s: %s\r\n" % (name, value))
    parts.append("\r\n")
    return "".join(parts).encode("latin-1", "replace")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (empty data gives nothing: the last chunk is LAST_CHUNK)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


# ---------------------------------------------------------------------------
# Request heads

class HeadError(Exception):
    """A head that cannot be served: `status` is the page to send (0: close silently)."""

    def __init__(self, status: int, log_msg: str = "", request_line: str = ""):
        super().__init__(log_msg)
        self.status = status
        self.log_msg = log_msg
        self.request_line = request_line


class RequestHead:
    """A parsed request line and header block.

    The header block is kept as the bytes that came (`block`); the parsed
    list and the lookup index are built from it when first asked for, and
    `compact()` drops them again (an upgraded connection keeps one bytes
    object for `ngx.req.get_headers()`, not a tuple and two strings per header).
    """

    __slots__ = ("method", "request_uri", "uri", "args", "protocol", "http_version",
                 "block", "_headers", "_index", "request_line", "host")

    def __init__(self, method, request_uri, uri, args, protocol, headers, request_line, block=None):
        self.method = method
        self.request_uri = request_uri
        self.uri = uri
        self.args = args
        self.protocol = protocol
        self.http_version = 1.1 if protocol == "HTTP/1.1" else 1.0
        self._headers = headers  # [(name as sent, value)], or None: parse `block` again when asked
        self.block = block if block is not None else b"\r\n".join(
            ("%s: %s" % item).encode("latin-1", "replace") for item in headers)
        self.request_line = request_line
        self._index = None
        self.host = None

    @property
    def headers(self) -> List[Tuple[str, str]]:
        """[(name as sent, value)] in the order sent."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _split_headers(self.block)
        return headers

    def get(self, lower_name: str, default: Optional[str] = None) -> Optional[str]:
        """The first value of a header (name in lower case), or `default`."""
        index = self._index
        if index is None:
            index = {}
            for name, value in self.headers:
                key = name.lower()
                if key not in index:  # the first one wins for single-valued lookups, as nginx's headers_in
                    index[key] = value
            self._index = index
        return index.get(lower_name, default)

    def compact(self) -> None:
        """Drop the parsed headers and index (rebuilt from `block` on the next use)."""
        self._headers = None
        self._index = None


def _split_headers(block: bytes) -> List[Tuple[str, str]]:
    """A header block already checked by parse_header_block -> [(name, value)]."""
    out = []
    if block:
        for line in block.decode("latin-1").split("\r\n"):
            if line:
                name, _, value = line.partition(":")
                out.append((name, value.strip(" \t")))
    return out


#: The strings every request repeats, shared instead of one copy per request.
_COMMON = {text: text for text in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH",
                                   "HTTP/1.1", "HTTP/1.0")}


def _decode_path(raw: str) -> str:
    """nginx's $uri: percent-decoded, `//` merged, `.`/`..` resolved; HeadError(400) above the root."""
    if "%" in raw:
        path = unquote_to_bytes(raw).decode("utf-8", "surrogateescape")
    else:
        path = raw
    if "//" not in path and "/." not in path:
        return path
    out: List[str] = []
    segments = path.split("/")
    for seg in segments[1:-1]:
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            if not out:
                raise HeadError(400, "client sent invalid request")
            out.pop()
            continue
        out.append(seg)
    last = segments[-1] if len(segments) > 1 else ""
    if last == "..":
        if not out:
            raise HeadError(400, "client sent invalid request")
        out.pop()
        last = ""
    elif last == ".":
        last = ""
    return "/" + "".join(s + "/" for s in out) + last


def parse_request_line(line: bytes) -> Tuple[str, str, str, str, str]:
    """`GET /a%20b?x=1 HTTP/1.1` -> (method, request_uri, uri, args, protocol)."""
    text = line.rstrip(b"\r\n").decode("latin-1")
    parts = text.split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise HeadError(400, "client sent invalid request", text)
    method, target, protocol = parts
    method = _COMMON.get(method, method)
    protocol = _COMMON.get(protocol, protocol)
    if not method.isalpha() or not method.isupper():
        raise HeadError(400, "client sent invalid method", text)
    if protocol not in ("HTTP/1.1", "HTTP/1.0"):
        if protocol.startswith("HTTP/") and protocol[5:6].isdigit() and protocol[5:6] != "0" \
                and protocol[5:6] != "1":
            raise HeadError(505, "client sent unsupported HTTP version", text)
        raise HeadError(400, "client sent invalid request", text)
    if target[0] != "/":
        # absolute-form: http://host/path
        scheme_end = target.find("://")
        if scheme_end <= 0:
            raise HeadError(400, "client sent invalid request", text)
        slash = target.find("/", scheme_end + 3)
        target = target[slash:] if slash >= 0 else "/"
    qmark = target.find("?")
    if qmark >= 0:
        raw_path, args = target[:qmark], target[qmark + 1:]
    else:
        raw_path, args = target, None
    try:
        uri = _decode_path(raw_path)
    except HeadError as exc:
        exc.request_line = text
        raise
    return method, target, uri, args, protocol


def parse_header_block(block: bytes, line_limit: int) -> List[Tuple[str, str]]:
    """`Name: value\\r\\n...` (without the final blank line) -> [(name, value)]."""
    headers = []
    if not block:
        return headers
    for line in block.decode("latin-1").split("\r\n"):
        if not line:
            continue
        if len(line) + 2 > line_limit:
            raise HeadError(494, "client sent too long header line")
        colon = line.find(":")
        if colon <= 0 or line[0] in " \t" or " " in line[:colon] or "\t" in line[:colon]:
            raise HeadError(400, "client sent invalid header line")
        headers.append((line[:colon], line[colon + 1:].strip(" \t")))
    return headers


def read_head(sock, settings) -> RequestHead:
    """Read and parse one request head from `sock` (a TCPSocket) under `settings`' limits.

    The head is read with one `_read_until`; only when it is too large is
    the request line looked at alone, to choose between 414 and 400.
    Raises HeadError: status 0 when the peer closed or timed out before
    sending a request line (nginx closes silently), 408 on a timeout in the
    headers, 400/414/494/505 for a bad or too large head.
    """
    number, size = settings.large_client_header_buffers
    raw, err = sock._read_until(b"\r\n\r\n", number * size)
    if raw is None:
        if err == "too large":
            line, err = sock._read_until(b"\n", size)
            if line is None:
                raise HeadError(414, "client sent too long URI")
            raise HeadError(494, "client sent too long header line",
                            line.rstrip(b"\r\n").decode("latin-1"))
        if err == "timeout":
            if sock._buffered():
                raise HeadError(408, "client timed out (110: Connection timed out) while reading client request "
                                     "headers")
            raise HeadError(0, "client timed out (110: Connection timed out) while waiting for request")
        if sock._buffered():
            raise HeadError(-1, "client prematurely closed connection while reading client request headers")
        raise HeadError(0, "")
    if raw[:2] == b"\r\n":  # nginx skips empty lines before a request line
        raw = raw.lstrip(b"\r\n")
        if not raw:
            raise HeadError(400, "client sent invalid request")
        if not raw.endswith(b"\r\n\r\n"):
            raw += b"\r\n"  # the first line was everything: give it its blank line back
    eol = raw.find(b"\r\n")
    if eol + 2 > size:
        raise HeadError(414, "client sent too long URI")
    method, request_uri, uri, args, protocol = parse_request_line(raw[:eol])
    request_line = raw[:eol].decode("latin-1")
    try:
        block = raw[eol + 2:-4]
        headers = parse_header_block(block, size)
    except HeadError as exc:
        exc.request_line = request_line
        raise
    head = RequestHead(method, request_uri, uri, args, protocol, headers, request_line, block)
    host = head.get("host")
    if host is None and protocol == "HTTP/1.1":
        raise HeadError(400, 'client sent HTTP/1.1 request without "Host" header', request_line)
    if host is not None:
        h = host.lower()
        if h.startswith("["):
            end = h.find("]")
            h = h[:end + 1] if end > 0 else h
        else:
            colon = h.rfind(":")
            if colon >= 0:
                h = h[:colon]
        h = h.rstrip(".")
        if not h or "/" in h or ".." in h:
            raise HeadError(400, "client sent invalid host header", request_line)
        head.host = h
    return head


def _head_read_error(err, request_line: str, size: int) -> HeadError:
    if err == "too large":
        return HeadError(494, "client sent too long header line", request_line)
    if err == "timeout":
        return HeadError(408, "client timed out (110: Connection timed out) while reading client request headers",
                         request_line)
    return HeadError(-1, "client prematurely closed connection while reading client request headers",
                     request_line)


# ---------------------------------------------------------------------------
# Request bodies

class BodyError(Exception):
    """Reading the body failed: `status` to finalize with (400, 408, 413) or 0 (connection broken)."""

    def __init__(self, status: int, log_msg: str = ""):
        super().__init__(log_msg)
        self.status = status
        self.log_msg = log_msg


def read_body(sock, length: Optional[int], chunked: bool, max_size: int) -> bytes:
    """The whole request body, by Content-Length or chunked coding; BodyError on failure."""
    if chunked:
        return _read_chunked(sock, max_size)
    if not length:
        return b""
    data, err, _partial = sock.receive(length)
    if data is None:
        raise _body_error(err)
    return data


def _body_error(err) -> BodyError:
    if err == "timeout":
        return BodyError(408, "client timed out (110: Connection timed out) while reading client request body")
    return BodyError(0, "client prematurely closed connection")


def _read_chunked(sock, max_size: int) -> bytes:
    pieces = []
    total = 0
    while True:
        line, err = sock._read_until(b"\n", 4096)
        if line is None:
            if err == "too large":
                raise BodyError(400, "client sent invalid chunked body")
            raise _body_error(err)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BodyError(400, "client sent invalid chunked body") from None
        if size < 0:
            raise BodyError(400, "client sent invalid chunked body")
        if size == 0:
            while True:  # trailers up to the blank line
                line, err = sock._read_until(b"\n", 8192)
                if line is None:
                    raise _body_error(err) if err != "too large" else BodyError(400, "client sent invalid chunked body")
                if line in (b"\r\n", b"\n"):
                    return b"".join(pieces)
        total += size
        if max_size and total > max_size:
            raise BodyError(413, "client intended to send too large chunked body: %d bytes" % total)
        data, err, _partial = sock.receive(size)
        if data is None:
            raise _body_error(err)
        pieces.append(data)
        crlf, err = sock._read_until(b"\n", 2)
        if crlf is None or crlf.strip(b"\r\n"):
            if crlf is None and err != "too large":
                raise _body_error(err)
            raise BodyError(400, "client sent invalid chunked body")


# ---------------------------------------------------------------------------
# Access log

class AccessLog:
    """One access-log file, written with a single os.write per line (O_APPEND)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = -1
        self.open()

    def open(self) -> None:
        old = self.fd
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            self.fd = -1
        if old >= 0:
            os.close(old)

    def write(self, line: bytes) -> None:
        if self.fd >= 0:
            try:
                os.write(self.fd, line)
            except OSError:
                pass


_local_time_cache = [0, ""]


def time_local(now: float) -> str:
    """nginx's $time_local: `25/Nov/2026:10:00:00 +0000`."""
    sec = int(now)
    if _local_time_cache[0] != sec:
        _local_time_cache[0] = sec
        _local_time_cache[1] = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(sec))
    return _local_time_cache[1]


def _log_escape(value: str) -> str:
    # nginx escapes ", \ and bytes outside printable ASCII as \xXX in log variables
    if value.isprintable() and value.isascii() and '"' not in value and "\\" not in value:
        return value
    out = []
    for ch in value:
        o = ord(ch)
        if ch == '"' or ch == "\\" or o < 0x20 or o > 0x7e:
            out.append("\\x%02X" % (o & 0xff))
        else:
            out.append(ch)
    return "".join(out)


def combined_line(remote_addr: str, request_line: str, status: int, body_bytes: int,
                  referer: Optional[str], user_agent: Optional[str], now: float) -> bytes:
    """One line of nginx's `combined` log format."""
    return ('%s - - [%s] "%s" %d %d "%s" "%s"\n' % (
        remote_addr, time_local(now), _log_escape(request_line), status, body_bytes,
        _log_escape(referer) if referer else "-", _log_escape(user_agent) if user_agent else "-",
    )).encode("utf-8", "replace")


_socket_class = None


def socket_class():
    """The cosocket class wrapping accepted connections (imported on first use: tcp imports this module)."""
    global _socket_class
    cls = _socket_class
    if cls is None:
        from ..tcp import TCPSocket
        cls = _socket_class = TCPSocket
    return cls
