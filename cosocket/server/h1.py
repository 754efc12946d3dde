"""HTTP/1.x request parsing without I/O: bytes in, a request head, body framing or a refusal out.

The decisions are nginx's (1.21.1 and later): what it tolerates (LF-only line
ends, empty lines before the request line, methods such as `M-SEARCH`, runs of
spaces in the request line, `HTTP/1.2` served as 1.1, HTTP/0.9 `GET /`, header
lines without a colon, header names with odd characters ignored) and what it
refuses, with the status it answers (`HeadError.status`):

* 400: a request line or header line that cannot be HTTP (decided at the first
  byte that shows it, before the line ends), NUL or control bytes in a header
  name or the URI, `%00` in the URI, a CR not followed by LF, obs-fold, a
  repeated Host or Content-Length, a Host that is not a host name,
  Content-Length that is not plain decimal digits, Content-Length with
  Transfer-Encoding, Transfer-Encoding in HTTP/1.0, a bad chunk;
* 405 TRACE, 414 a request line longer than one large header buffer, 494 a
  header line or head too large, 501 a transfer coding other than `chunked`,
  505 HTTP/2 and above.

`HeadParser` reads a head from a buffer it does not own (the connection's
read buffer) and says how many bytes the head took; `body_framing` decides how
the body is delimited; `ChunkedDecoder` decodes a chunked body as it arrives.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote_to_bytes

#: The largest Content-Length (nginx's NGX_MAX_OFF_T_VALUE); above it is a 400.
MAX_LENGTH = (1 << 63) - 1
#: The largest chunk size nginx's chunk parser takes (NGX_MAX_OFF_T_VALUE / 16); above it is a 400.
MAX_CHUNK = MAX_LENGTH // 16


class HeadError(Exception):
    """A head that cannot be served: `status` is the page to send (0: close silently, -1: close and log)."""

    def __init__(self, status: int, log_msg: str = "", request_line: str = ""):
        super().__init__(log_msg)
        self.status = status
        self.log_msg = log_msg
        self.request_line = request_line
        self.http09 = False


class RequestHead:
    """A parsed request line and header block.

    The header block is kept as bytes (`block`: the accepted header lines
    joined by CRLF); the parsed list and the lookup index are built from it
    when first asked for, and `compact()` drops them again (an upgraded
    connection keeps one bytes object for `ngx.req.get_headers()`, not a
    tuple and two strings per header).
    """

    __slots__ = ("method", "request_uri", "uri", "args", "protocol", "http_version",
                 "block", "_headers", "_index", "request_line", "host")

    def __init__(self, method, request_uri, uri, args, protocol, headers, request_line, block=None,
                 http_version=None):
        self.method = method
        self.request_uri = request_uri
        self.uri = uri
        self.args = args
        self.protocol = protocol
        if http_version is None:
            http_version = 1.1 if protocol == "HTTP/1.1" else 1.0
        self.http_version = http_version
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
            index = self._build_index()
        return index.get(lower_name, default)

    def _build_index(self) -> dict:
        headers = self._headers
        if headers is None:
            # straight from the block when its lines are plain: the lookups need no list of pairs
            block = self.block
            index = _plain_index(block.decode("latin-1")) if block else {}
            if index is not None:
                self._index = index
                return index
            headers = self.headers
        index = {}
        repeated = None
        for name, value in headers:
            key = name.lower()
            if key not in index:  # the first one wins for single-valued lookups, as nginx's headers_in
                index[key] = value
            elif key in _TRACKED:
                repeated = (repeated or "") + key + "\n"
        if repeated is not None:
            index[_REPEATED] = repeated
        self._index = index
        return index

    def line_count(self) -> int:
        """How many header lines the head has."""
        headers = self._headers
        if headers is not None:
            return len(headers)
        block = self.block
        return block.count(b"\n") + 1 if block else 0

    def repeated(self, lower_name: str) -> bool:
        """Whether Host, Content-Length, Transfer-Encoding or Connection (`lower_name`) came more than once."""
        index = self._index
        if index is None:
            index = self._build_index()
        return lower_name + "\n" in index.get(_REPEATED, "")

    def compact(self) -> None:
        """Drop the parsed headers and index (rebuilt from `block` on the next use)."""
        self._headers = None
        self._index = None


#: Headers whose repeats are noted (under a key no header can have): nginx takes the first three once
#: (a repeat is a 400); the keep-alive choice reads every Connection line.
_TRACKED = frozenset(("host", "content-length", "transfer-encoding", "connection"))
_REPEATED = " repeated"


#: Plain header names seen -> their lower-case keys (bounded: made-up names stop being remembered).
_plain_names: Dict[str, str] = {}
_PLAIN_NAMES_LIMIT = 512
_TOKEN = re.compile(r"[A-Za-z0-9-]+")


def _plain_index(text: str) -> Optional[dict]:
    """The lookup index of a decoded header block whose lines are all plain (a name of letters, digits
    and `-`, a colon, a value without NUL, CR or LF), split as _split_headers does; None otherwise."""
    if "\x00" in text:
        return None
    names = _plain_names
    index: dict = {}
    repeated = None
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        key = names.get(name)
        if key is None:
            if _TOKEN.fullmatch(name) is None:
                return None
            key = name.lower()
            if len(names) < _PLAIN_NAMES_LIMIT:
                names[name] = key
        if not colon or "\r" in value or "\n" in value:
            return None
        if key not in index:  # the first one wins for single-valued lookups, as nginx's headers_in
            index[key] = value.strip(" ")
        elif key in _TRACKED:
            repeated = (repeated or "") + key + "\n"
    if repeated is not None:
        index[_REPEATED] = repeated
    return index


def _split_headers(block: bytes) -> List[Tuple[str, str]]:
    """A header block built by HeadParser -> [(name, value)]."""
    out = []
    if block:
        for line in block.decode("latin-1").split("\r\n"):
            if line:
                name, _, value = line.partition(":")
                out.append((name, value.strip(" ")))  # nginx trims spaces only: a tab stays in the value
    return out


# ---------------------------------------------------------------------------
# The request line

#: The strings every request repeats, shared instead of one copy per request.
_COMMON = {text: text for text in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH",
                                   "HTTP/1.1", "HTTP/1.0")}

_METHOD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_-")
#: A complete request line (line end removed): method, target, then major and minor version or nothing (0.9).
_REQUEST_LINE = re.compile(rb"([A-Z_-]+) +([^ \r]+)(?: +HTTP/([1-9][0-9]*)\.([0-9]{1,3}))? *\r?")
_URI_BAD = re.compile(rb"[\x00-\x20\x7f]")
_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/]*")
#: What a request line may start with, byte by byte: the method, spaces, then a target.
_LINE_START = re.compile(rb"[A-Z_-]*(?: +(?:[/A-Za-z][^\x00-\x1f\x7f]*)?)?")


def _early_line_check(prefix: bytes, limit: int) -> None:
    """Refuse an unfinished request line as soon as its bytes show it cannot be HTTP."""
    if _LINE_START.fullmatch(prefix) is None:
        raise HeadError(400, "client sent invalid request", prefix.decode("latin-1"))
    if len(prefix) >= limit:
        raise HeadError(414, "client sent too long URI")


def parse_request_line(line: bytes):
    """A request line without its LF -> (method, request_uri, uri, args, protocol, http_version)."""
    return _request_line(line)[:6]


#: The usual request line, on its decoded text: one space between the parts, an origin-form target of
#: printable ASCII, HTTP/1.1 or 1.0.  What it matches, the general parse decides the same way.
_PLAIN_LINE = re.compile(r"(([A-Z]+) (/[!-~]*) HTTP/1\.([01]))\r?")


def _request_line(line: bytes) -> tuple:
    """parse_request_line's answer and the line's text (no CR) as a seventh item."""
    m = _PLAIN_LINE.fullmatch(line.decode("latin-1"))
    if m is None:
        return _any_request_line(line)
    text, method, target, minor = m.groups()
    method = _COMMON.get(method, method)
    if minor == "1":
        protocol, version = "HTTP/1.1", 1.1
    else:
        protocol, version = "HTTP/1.0", 1.0
    return _line_answer(method, target, protocol, version, text)


def _line_answer(method: str, target: str, protocol: str, version: float, text: str) -> tuple:
    """parse_request_line's answer once the line's parts are checked: the target split at "?" and its
    path decoded ($uri)."""
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
    return method, target, uri, args, protocol, version, text


def _any_request_line(line: bytes) -> tuple:
    text = line.rstrip(b"\r").decode("latin-1")
    m = _REQUEST_LINE.fullmatch(line)
    if m is None:  # (the pattern lets a CR end the line only)
        raise HeadError(400, "client sent invalid request", text)
    method_b, target_b, major, minor = m.groups()
    if major is None:
        version = 0.9
        protocol = ""
    else:
        if int(major) > 1:
            raise HeadError(505, "client sent unsupported HTTP version", text)
        protocol = "HTTP/1.1" if int(minor) >= 1 else "HTTP/1.0"
        version = 1.1 if int(minor) >= 1 else 1.0
        if int(minor) != 1 and int(minor) != 0:
            protocol = "HTTP/1.%d" % int(minor)
    if _URI_BAD.search(target_b) is not None:
        raise HeadError(400, "client sent invalid request", text)
    method = method_b.decode("latin-1")
    method = _COMMON.get(method, method)
    protocol = _COMMON.get(protocol, protocol)
    target = target_b.decode("latin-1")
    if target[0] != "/":
        m = _SCHEME.match(target_b)
        if m is None:
            raise HeadError(400, "client sent invalid request", text)
        target = target[m.end():] or "/"
        if target[0] != "/":
            raise HeadError(400, "client sent invalid request", text)
    if version == 0.9 and method != "GET":
        exc = HeadError(400, "client sent invalid method in HTTP/0.9 request", text)
        exc.http09 = True  # answered like a 0.9 request: the bare page
        raise exc
    return _line_answer(method, target, protocol, version, text)


_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _decode_path(raw: str) -> str:
    """nginx's $uri: percent-decoded, `//` merged, `.`/`..` resolved; HeadError(400) above the root or for %00."""
    if "%" in raw:
        if _PERCENT.search(raw) is not None:
            raise HeadError(400, "client sent invalid request")
        decoded = unquote_to_bytes(raw)
        if b"\x00" in decoded:
            raise HeadError(400, "client sent invalid request")
        path = decoded.decode("utf-8", "surrogateescape")
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


# ---------------------------------------------------------------------------
# Header lines

#: The common, valid header line: a token of letters, digits and `-`, a colon, a value without NUL or CR.
_FAST_HEADER = re.compile(rb"[A-Za-z0-9-]+:[^\x00\r]*\r*")
#: Bytes nginx takes in a header name (its lowcase table); others make the line ignored, these refuse it.
_NAME_OK = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_NAME_FATAL = frozenset(range(0, 0x21)) | {0x7f}

#: What parse_header_line answers for a line nginx ignores (odd bytes in the name).
IGNORED = "ignored"


def parse_header_line(line: bytes):
    """One header line without its LF -> the line (trailing CRs removed), IGNORED, or HeadError(400)."""
    if _FAST_HEADER.fullmatch(line) is not None:
        return line.rstrip(b"\r")
    body = line.rstrip(b"\r")
    if not body or b"\r" in body:
        raise HeadError(400, "client sent invalid header line")
    first = body[0]
    if first in _NAME_FATAL or first == 0x3a:  # obs-fold (a leading space or tab), an empty name
        raise HeadError(400, "client sent invalid header line")
    colon = body.find(b":")
    name = body if colon < 0 else body[:colon]
    ignored = False
    for ch in name:
        if ch in _NAME_OK:
            continue
        if ch in _NAME_FATAL:
            raise HeadError(400, "client sent invalid header line")
        ignored = True  # `_`, `.`, `@`, bytes above 0x7f ...: nginx skips the line
    if colon >= 0 and b"\x00" in body[colon:]:
        raise HeadError(400, "client sent invalid header line")
    return IGNORED if ignored else body


# ---------------------------------------------------------------------------
# The head

class HeadParser:
    """Finds one request head at the front of a buffer that grows as bytes arrive.

    `feed(buf)` looks at the bytes it has not seen yet and answers None (need
    more) or the RequestHead; a refusal raises HeadError as soon as the bytes
    show it.  `end` is then how many bytes of `buf` the head took.  `size`
    and `number` are large_client_header_buffers.
    """

    __slots__ = ("size", "number", "pos", "end", "line", "lines", "skipped")

    def __init__(self, number: int, size: int):
        self.size = size
        self.number = number
        self.pos = 0  # where the next unparsed line starts
        self.end = 0
        self.line: Optional[tuple] = None  # the parsed request line
        self.lines: List[bytes] = []
        self.skipped = 0  # empty lines before the request line

    def request_line_text(self) -> str:
        return self.line[6] if self.line is not None else ""

    def feed(self, buf) -> Optional[RequestHead]:
        pos = self.pos
        if not pos and self.line is None:
            head = self._whole(buf)
            if head is not None:
                return head
        while True:
            eol = buf.find(b"\n", pos)
            if eol < 0:
                self._check_partial(buf, pos)
                self.pos = pos
                return None
            line = bytes(buf[pos:eol])
            pos = eol + 1
            if self.line is None:
                if line == b"" or line == b"\r":
                    self.skipped += 1  # nginx skips empty lines before the request line
                    if self.skipped > self.size:
                        raise HeadError(400, "client sent invalid request")
                    continue
                if len(line) + 1 > self.size:
                    raise HeadError(414, "client sent too long URI")
                try:
                    parsed = self.line = _request_line(line)
                except HeadError as exc:
                    if not exc.request_line:
                        exc.request_line = line.rstrip(b"\r").decode("latin-1")
                    raise
                if parsed[5] == 0.9:
                    self.end = pos
                    return self._head()
                continue
            if len(line) + 1 > self.size:
                raise HeadError(494, "client sent too long header line", self.request_line_text())
            if pos > self.number * self.size:
                raise HeadError(494, "client sent too large request", self.request_line_text())
            if line == b"" or line == b"\r":
                self.end = pos
                return self._head()
            if not line.rstrip(b"\r"):  # the blank line with more than one CR
                raise HeadError(400, "client sent invalid header line", self.request_line_text())
            try:
                parsed_line = parse_header_line(line)
            except HeadError as exc:
                exc.request_line = self.request_line_text()
                raise
            if parsed_line is not IGNORED:
                self.lines.append(parsed_line)

    def _whole(self, buf) -> Optional[RequestHead]:
        """The common head in one piece: CRLF line ends, plain header lines, within one buffer (else None:
        the line by line path decides)."""
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end + 4 > self.size:
            return None
        eol = buf.find(b"\n") - 1  # the request line's CR
        if eol <= 0 or buf[eol] != 0x0d:
            return None
        line = bytes(buf[:eol + 1])  # with its CR, as the line by line path parses it
        if eol == end:
            block = b""
            index: Optional[dict] = {}
        else:
            block = bytes(buf[eol + 2:end])
            index = _plain_index(block.decode("latin-1"))
            if index is None:
                return None
        try:
            parsed = _request_line(line)
        except HeadError as exc:
            if not exc.request_line:
                exc.request_line = line.rstrip(b"\r").decode("latin-1")
            raise
        if parsed[5] == 0.9:
            return None
        self.line = parsed
        self.end = end + 4
        return self._head(block, index)

    def _check_partial(self, buf, pos: int) -> None:
        """Decide on an unfinished line what its bytes already decide."""
        tail = len(buf) - pos
        if not tail:
            return
        if self.line is None:
            start = pos
            while start < len(buf) and buf[start] == 0x0d:
                start += 1
            if start - pos > 1:
                raise HeadError(400, "client sent invalid request")
            _early_line_check(bytes(buf[start:]), self.size)
            return
        if tail >= self.size:
            raise HeadError(494, "client sent too long header line", self.request_line_text())
        if len(buf) > self.number * self.size:
            raise HeadError(494, "client sent too large request", self.request_line_text())
        cr = buf.find(b"\r", pos)
        if cr >= 0:
            rest = bytes(buf[cr:]).lstrip(b"\r")
            blank = cr == pos
            if rest or (blank and len(buf) - cr > 1):
                raise HeadError(400, "client sent invalid header line", self.request_line_text())
        if buf[pos] in (0x20, 0x09, 0x3a, 0x00):
            raise HeadError(400, "client sent invalid header line", self.request_line_text())

    def _head(self, block: Optional[bytes] = None, index: Optional[dict] = None) -> RequestHead:
        method, target, uri, args, protocol, version, text = self.line
        if block is None:
            block = b"\r\n".join(self.lines)
        head = RequestHead(method, target, uri, args, protocol, None, text, block, version)
        head._index = index  # (None: built from the block when first asked)
        check_headers(head)
        return head


_HOST_BAD = re.compile(r"[\x00-\x20\x7f/]")


def check_headers(head: RequestHead) -> None:
    """nginx's checks of a complete head: Host, repeated single headers, TRACE (HeadError)."""
    text = head.request_line
    index = head._index if head._index is not None else head._build_index()
    repeated = index.get(_REPEATED)
    if repeated is not None:
        if "host\n" in repeated:
            raise HeadError(400, "client sent duplicate host header", text)
        if "content-length\n" in repeated:
            raise HeadError(400, 'client sent duplicate header line: "Content-Length"', text)
        if "transfer-encoding\n" in repeated:
            raise HeadError(400, 'client sent duplicate header line: "Transfer-Encoding"', text)
    host = index.get("host")
    if host is None:
        if head.http_version >= 1.1:
            raise HeadError(400, 'client sent HTTP/1.1 request without "Host" header', text)
    else:
        if _HOST_BAD.search(host) is not None:
            raise HeadError(400, "client sent invalid host header", text)
        h = host.lower()
        if h[:1] == "[":
            end = h.find("]")
            h = h[:end + 1] if end > 0 else h
        else:
            colon = h.find(":")
            if colon >= 0:
                h = h[:colon]
        if h[-1:] == ".":
            h = h.rstrip(".")
        if not h or ".." in h:
            raise HeadError(400, "client sent invalid host header", text)
        head.host = h
    if head.method == "TRACE":
        raise HeadError(405, "client sent TRACE method", text)


def parse_decimal(text: str) -> int:
    """Content-Length as nginx reads it: ASCII digits only, below 2^63; -1 for anything else."""
    if not text or not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > 19:
        return -1
    value = int(text)
    return value if value <= MAX_LENGTH else -1


def body_framing(head: RequestHead) -> Tuple[Optional[int], bool]:
    """How the body is delimited -> (Content-Length or None, chunked); HeadError(400/501) for nginx's refusals."""
    text = head.request_line
    length = None
    cl = head.get("content-length")
    if cl is not None:
        length = parse_decimal(cl)
        if length < 0:
            raise HeadError(400, 'client sent invalid "Content-Length" header', text)
    te = head.get("transfer-encoding")
    if te is None:
        return length, False
    if head.http_version < 1.1:
        raise HeadError(400, 'client sent "Transfer-Encoding" header in HTTP/1.0 request', text)
    if te.lower() != "chunked":
        raise HeadError(501, 'client sent unknown "Transfer-Encoding": "%s"' % te, text)
    if cl is not None:
        raise HeadError(400, 'client sent "Content-Length" and "Transfer-Encoding" headers at the same time',
                        text)
    return None, True


# ---------------------------------------------------------------------------
# Chunked bodies

class ChunkError(Exception):
    """An invalid chunked body (nginx: 400 "client sent invalid chunked body")."""


_HEX = frozenset(b"0123456789abcdefABCDEF")


class ChunkedDecoder:
    """Decodes a chunked body from a buffer as bytes arrive.

    `feed(buf)` decodes what it can from the front of `buf` and says how
    many bytes it used; `done` turns true after the last chunk and its
    trailer (what follows belongs to the next request).  `size_seen` is the total the chunk sizes
    announced so far (for client_max_body_size).  Memory follows what
    arrives: a chunk's announced size is never reserved.
    """

    __slots__ = ("state", "left", "done", "size_seen")

    def __init__(self) -> None:
        self.state = "size"
        self.left = 0
        self.done = False
        self.size_seen = 0

    def feed(self, buf) -> Tuple[bytes, int]:
        """Decode from the front of `buf` -> (data bytes, how many bytes of `buf` were used); ChunkError."""
        out = []
        pos = 0
        end = len(buf)
        while pos < end and not self.done:
            state = self.state
            if state == "data":
                take = min(self.left, end - pos)
                out.append(bytes(buf[pos:pos + take]))
                pos += take
                self.left -= take
                if not self.left:
                    self.state = "data_end"
                continue
            eol = buf.find(b"\n", pos)
            if eol < 0:
                self._check_partial(bytes(buf[pos:]))
                break
            line = bytes(buf[pos:eol]).rstrip(b"\r")
            pos = eol + 1
            if b"\r" in line:
                raise ChunkError()
            if state == "size":
                self._size_line(line)
            elif state == "data_end":
                if line:
                    raise ChunkError()
                self.state = "size"
            else:  # trailer lines up to the empty one
                if not line:
                    self.done = True
        return b"".join(out), pos

    def _size_line(self, line: bytes) -> None:
        digits = line
        for i, ch in enumerate(line):
            if ch not in _HEX:
                if ch not in b"; \t":
                    raise ChunkError()
                digits = line[:i]
                break
        if not digits or len(digits.lstrip(b"0")) > 15:
            raise ChunkError()
        size = int(digits, 16)
        if size > MAX_CHUNK:
            raise ChunkError()
        self.size_seen += size
        if size == 0:
            self.state = "trailer"
        else:
            self.left = size
            self.state = "data"

    def _check_partial(self, buf: bytes) -> None:
        if self.state == "size":
            for i, ch in enumerate(buf):
                if ch in _HEX:
                    continue
                if ch in b"; \t\r":
                    break
                raise ChunkError()
        elif self.state == "data_end":
            if buf[:1] not in (b"\r", b"") or len(buf) > 1 and buf[1:2] != b"\n":
                raise ChunkError()
        if len(buf) > 4096:  # a size or trailer line nginx would not buffer
            raise ChunkError()
