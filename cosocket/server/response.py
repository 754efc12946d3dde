"""Writing responses: status lines, heads, chunks, and nginx's built-in error pages.

Status lines and the page texts are nginx's (ngx_http_status_lines,
ngx_http_error_pages); the Server header names this product.
"""
from __future__ import annotations

import time
from typing import Dict, List, Optional, Tuple

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
    """The Server header's value (server_tokens on: with the version)."""
    return "cosocket/" + __version__ if tokens else "cosocket"


_STATUS_LINES = {code: "%d %s" % (code, reason) for code, reason in REASONS.items()}


def status_line(status: int) -> str:
    """`200 OK`: the status and nginx's reason phrase."""
    line = _STATUS_LINES.get(status)
    if line is None:
        return "%03d " % status  # nginx writes unknown codes with an empty reason
    return line


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
    try:
        lines = "\r\n".join(map(": ".join, headers))  # (str names and values, as the request writes them)
    except TypeError:
        lines = "\r\n".join(["%s: %s" % header for header in headers])
    return "".join((version, " ", status_line(status), "\r\n", lines, "\r\n\r\n" if lines else "\r\n")).encode(
        "latin-1", "replace")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (empty data gives nothing: the last chunk is LAST_CHUNK)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
