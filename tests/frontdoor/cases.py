"""The one expectation table of the front-door tests: raw request bytes and what a client must see.

Each case is (name, request bytes, expected statuses, closed, body lengths the handler saw).  Status 0 is an
HTTP/0.9 answer (the bare body).  The same table is asserted against Debian's nginx and against this server.
"""
from __future__ import annotations

H = b"Host: a\r\n"
GET = b"GET / HTTP/1.1\r\n" + H + b"\r\n"


def req(method=b"GET", target=b"/", version=b"HTTP/1.1", headers=(H,), body=b"", eol=b"\r\n") -> bytes:
    """A request from parts; `headers` are whole lines (with their line end)."""
    return method + b" " + target + b" " + version + eol + b"".join(headers) + eol + body


def post(headers, body=b"", version=b"HTTP/1.1") -> bytes:
    return req(b"POST", b"/", version, (H,) + tuple(headers), body)


CASES = [
    # name, request, statuses, closed, lengths (None: not the echo handler's answer)
    ("plain GET", GET, (200,), False, (0,)),
    ("two pipelined GETs", GET + GET, (200, 200), False, (0, 0)),
    ("body by Content-Length", post([b"Content-Length: 5\r\n"], b"hello"), (200,), False, (5,)),
    ("chunked body", post([b"Transfer-Encoding: chunked\r\n"], b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n"),
     (200,), False, (8,)),
    ("chunked body with trailer", post([b"Transfer-Encoding: chunked\r\n"], b"2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n"),
     (200,), False, (2,)),
    ("chunked, upper-case hex", post([b"Transfer-Encoding: chunked\r\n"], b"A\r\n0123456789\r\n0\r\n\r\n"),
     (200,), False, (10,)),
    ("chunked coding name in capitals", post([b"Transfer-Encoding: Chunked\r\n"], b"1\r\nx\r\n0\r\n\r\n"),
     (200,), False, (1,)),
    # smuggling
    ("two Content-Length, different", post([b"Content-Length: 3\r\n", b"Content-Length: 8\r\n"], b"abcdefgh"),
     (400,), True, (None,)),
    ("two Content-Length, equal", post([b"Content-Length: 3\r\n", b"Content-Length: 3\r\n"], b"abc"),
     (400,), True, (None,)),
    ("Content-Length with chunked", post([b"Content-Length: 3\r\n", b"Transfer-Encoding: chunked\r\n"],
                                         b"0\r\n\r\n"), (400,), True, (None,)),
    ("chunked then Content-Length", post([b"Transfer-Encoding: chunked\r\n", b"Content-Length: 3\r\n"],
                                         b"0\r\n\r\n"), (400,), True, (None,)),
    ("Transfer-Encoding in HTTP/1.0", post([b"Transfer-Encoding: chunked\r\n"], b"0\r\n\r\n", b"HTTP/1.0"),
     (400,), True, (None,)),
    ("Transfer-Encoding identity", post([b"Transfer-Encoding: identity\r\n"]), (501,), True, (None,)),
    ("Transfer-Encoding gzip, chunked", post([b"Transfer-Encoding: gzip, chunked\r\n"], b"0\r\n\r\n"),
     (501,), True, (None,)),
    ("Transfer-Encoding chunked, chunked", post([b"Transfer-Encoding: chunked, chunked\r\n"], b"0\r\n\r\n"),
     (501,), True, (None,)),
    # numbers
    ("Content-Length +5", post([b"Content-Length: +5\r\n"], b"hello"), (400,), True, (None,)),
    ("Content-Length 0_5", post([b"Content-Length: 0_5\r\n"], b"hello"), (400,), True, (None,)),
    ("Content-Length -1", post([b"Content-Length: -1\r\n"]), (400,), True, (None,)),
    ("Content-Length in Arabic-Indic digits", post(["Content-Length: \u0665\r\n".encode()], b"hello"),
     (400,), True, (None,)),
    ("Content-Length with leading zeros", post([b"Content-Length: 005\r\n"], b"hello"), (200,), False, (5,)),
    ("Content-Length overflow", post([b"Content-Length: 99999999999999999999999\r\n"]), (400,), True, (None,)),
    ("chunk size 0x5", post([b"Transfer-Encoding: chunked\r\n"], b"0x5\r\nhello\r\n0\r\n\r\n"),
     (400,), True, (None,)),
    ("chunk size +5", post([b"Transfer-Encoding: chunked\r\n"], b"+5\r\nhello\r\n0\r\n\r\n"), (400,), True, (None,)),
    ("chunk size 0_5", post([b"Transfer-Encoding: chunked\r\n"], b"0_5\r\nhello\r\n0\r\n\r\n"),
     (400,), True, (None,)),
    ("chunk size over 2^63", post([b"Transfer-Encoding: chunked\r\n"], b"10000000000000000\r\nhello\r\n"),
     (400,), True, (None,)),
    ("chunk size 2^64-1", post([b"Transfer-Encoding: chunked\r\n"], b"ffffffffffffffff\r\nhello\r\n"),
     (400,), True, (None,)),
    ("chunk size 2^59-1 is only too large", post([b"Transfer-Encoding: chunked\r\n"],
                                                 b"07ffffffffffffff\r\nhello\r\n"), (413,), True, (None,)),
    ("chunk size 2^59", post([b"Transfer-Encoding: chunked\r\n"], b"800000000000000\r\nhello\r\n"),
     (400,), True, (None,)),
    # a Content-Length over client_max_body_size: 413 with Connection: close, then the announced body is
    # read and dropped (lingering) before the close: with none sent, the connection stays open a while
    ("Content-Length 2^63-1 is only too large", post([b"Content-Length: 9223372036854775807\r\n"]),
     (413,), False, (None,)),
    ("Content-Length 2^63", post([b"Content-Length: 9223372036854775808\r\n"]), (400,), True, (None,)),
    ("chunk data longer than its size", post([b"Transfer-Encoding: chunked\r\n"], b"2\r\nhello\r\n0\r\n\r\n"),
     (400,), True, (None,)),
    # header syntax
    ("bare LF inside a header value ends the line",
     post([b"X: a\nContent-Length: 5\r\n"], b"hello"), (200,), False, (5,)),
    ("LF-only line ends", b"GET / HTTP/1.1\nHost: a\n\n", (200,), False, (0,)),
    ("NUL in a header name", req(headers=(H, b"X\x00Y: 1\r\n")), (400,), True, (None,)),
    ("NUL in a header value", req(headers=(H, b"X: a\x00b\r\n")), (400,), True, (None,)),
    ("control byte in a header name", req(headers=(H, b"X\x01Y: 1\r\n")), (400,), True, (None,)),
    ("space in a header name", req(headers=(H, b"X Y: 1\r\n")), (400,), True, (None,)),
    ("space before the colon", req(headers=(H, b"Content-Length : 5\r\n")), (400,), True, (None,)),
    ("obs-fold", req(headers=(H, b"X: a\r\n", b" folded\r\n")), (400,), True, (None,)),
    ("header line without a colon", req(headers=(H, b"NoColon\r\n")), (200,), False, (0,)),
    ("header name with odd characters is ignored", req(headers=(H, b"X@Y: 1\r\n")), (200,), False, (0,)),
    ("underscore in a header name is ignored",
     post([b"Content_Length: 5\r\n"]), (200,), False, (0,)),
    ("control byte in a header value", req(headers=(H, b"X: a\x01b\r\n")), (200,), False, (0,)),
    ("CR alone inside a header value", req(headers=(H, b"X: a\rb\r\n")), (400,), True, (None,)),
    ("CR alone as a header line end", req(headers=(H, b"X: a\rY: b\r\n")), (400,), True, (None,)),
    ("CR alone in the blank line", b"GET / HTTP/1.1\r\nHost: a\r\n\rX", (400,), True, (None,)),
    # the request line
    ("TLS ClientHello on a plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),
     (400,), True, (None,)),
    ("TLS ClientHello, no line end", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", (400,), True, (None,)),
    ("CR alone in a header value, no line end", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb", (400,), True, (None,)),
    ("method with a digit, no line end", b"GE7 / HTTP/1.1", (400,), True, (None,)),
    ("FOO BAR", b"FOO BAR\r\n", (400,), True, (None,)),
    ("binary garbage", b"\x00\xff\xfe\x80garbage\r\n", (400,), True, (None,)),
    ("lower-case method", b"get / HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True, (None,)),
    ("empty lines before the request line", b"\r\n\r\n" + GET, (200,), False, (0,)),
    ("M-SEARCH", req(b"M-SEARCH"), (200,), False, (0,)),
    ("two spaces between the parts", b"GET  /  HTTP/1.1\r\nHost: a\r\n\r\n", (200,), False, (0,)),
    ("HTTP/1.2 served as 1.1", req(version=b"HTTP/1.2"), (200,), False, (0,)),
    ("HTTP/2.0", req(version=b"HTTP/2.0"), (505,), True, (None,)),
    ("HTTP/0.9 GET", b"GET /\r\n", (0,), True, (0,)),
    ("TRACE", req(b"TRACE"), (405,), True, (None,)),
    ("two Host headers", req(headers=(H, H)), (400,), True, (None,)),
    ("Host with a space", req(headers=(b"Host: a b\r\n",)), (400,), True, (None,)),
    ("no Host in HTTP/1.1", req(headers=()), (400,), True, (None,)),
    ("%00 in the URI", req(target=b"/a%00b"), (400,), True, (None,)),
    ("control byte in the URI", req(target=b"/a\x01b"), (400,), True, (None,)),
    ("DEL in the URI", req(target=b"/a\x7fb"), (400,), True, (None,)),
    ("Content-Length 0 followed by junk", post([b"Content-Length: 0\r\n"], b"junk\r\n\r\n"),
     (200, 400), True, (0, None)),
    ("URI above the root", req(target=b"/../x"), (400,), True, (None,)),
    ("%zz in the URI", req(target=b"/a%zzb"), (400,), True, (None,)),
    ("absolute-form target", req(target=b"http://a/x?y=1"), (200,), False, (0,)),
    ("Host with a port", req(headers=(b"Host: a:8080\r\n",)), (200,), False, (0,)),
    ("Host with two dots in a row", req(headers=(b"Host: a..b\r\n",)), (400,), True, (None,)),
    ("Host with a slash", req(headers=(b"Host: a/b\r\n",)), (400,), True, (None,)),
    ("empty Host", req(headers=(b"Host:\r\n",)), (400,), True, (None,)),
    ("two Transfer-Encoding headers", post([b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: chunked\r\n"],
                                           b"0\r\n\r\n"), (400,), True, (None,)),
    ("HTTP/1.0 without Host", req(version=b"HTTP/1.0", headers=()), (200,), True, (0,)),
    ("HTTP/1.0 keep-alive", req(version=b"HTTP/1.0", headers=(b"Connection: keep-alive\r\n",)) * 2,
     (200, 200), False, (0, 0)),
    ("Connection: close ends the pipeline", req(headers=(H, b"Connection: close\r\n")) + GET, (200,), True, (0,)),
    ("HTTP/0.9 POST gets the bare 400 page", b"POST /\r\n", (0,), True, (None,)),
    ("version with leading zero", req(version=b"HTTP/01.1"), (400,), True, (None,)),
    ("version minor 999", req(version=b"HTTP/1.999"), (200,), False, (0,)),
    ("version minor 1000", req(version=b"HTTP/1.1000"), (400,), True, (None,)),
    ("version major 100", req(version=b"HTTP/100.1"), (505,), True, (None,)),
    ("tab between the parts", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", (400,), True, (None,)),
    ("request line ending in CR CR LF", b"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", (400,), True, (None,)),
    ("header line ending in CR CR LF", req(headers=(H, b"X: a\r\r\n")), (200,), False, (0,)),
    ("empty header name", req(headers=(H, b": a\r\n")), (400,), True, (None,)),
    ("header value with trailing spaces", post([b"Content-Length: 2   \r\n"], b"hi"), (200,), False, (2,)),
    ("chunk extension without name", post([b"Transfer-Encoding: chunked\r\n"], b"2;\r\nhi\r\n0\r\n\r\n"),
     (200,), False, (2,)),
    ("chunk size with trailing space", post([b"Transfer-Encoding: chunked\r\n"], b"2 \r\nhi\r\n0\r\n\r\n"),
     (200,), False, (2,)),
    ("chunk lines with bare LF", post([b"Transfer-Encoding: chunked\r\n"], b"2\nhi\n0\n\n"), (200,), False, (2,)),
    ("Expect: 100-continue", post([b"Expect: 100-continue\r\n", b"Content-Length: 2\r\n"], b"hi"),
     (100, 200), False, (None, 2)),
    # limits
    ("413 with Content-Length", post([b"Content-Length: 100000\r\n"], b"x" * 100000), (413,), True, (None,)),
    ("413 chunked", post([b"Transfer-Encoding: chunked\r\n"], b"2000\r\n" + b"x" * 0x2000 + b"\r\n0\r\n\r\n"),
     (413,), True, (None,)),
]
