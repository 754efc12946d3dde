"""RequestHead keeps the header block as bytes; its parsed form is rebuilt on demand after compact()."""
from cosocket.server import h1


def _head(text: bytes) -> h1.RequestHead:
    parser = h1.HeadParser(4, 8192)
    head = parser.feed(bytearray(text))
    assert head is not None and parser.end == len(text)
    return head


def test_compact_drops_the_parsed_headers_and_get_rebuilds_them():
    head = _head(b"GET /a HTTP/1.1\r\nHost: Example.org:80\r\nX-A: 1\r\nx-a:  2 \r\nUpgrade: websocket\r\n\r\n")
    before = list(head.headers)
    assert before == [("Host", "Example.org:80"), ("X-A", "1"), ("x-a", "2"), ("Upgrade", "websocket")]
    assert head.get("x-a") == "1" and head.host == "example.org"
    head.compact()
    assert head._headers is None and head._index is None
    assert head.block == b"Host: Example.org:80\r\nX-A: 1\r\nx-a:  2 \r\nUpgrade: websocket"
    assert head.get("upgrade") == "websocket" and head.get("x-a") == "1" and head.get("nope", "d") == "d"
    assert head.headers == before


def test_a_head_built_from_a_list_has_the_same_block():
    head = h1.RequestHead("GET", "/", "/", None, "HTTP/1.1", [("A", "1"), ("B", "x y")], "GET / HTTP/1.1")
    head.compact()
    assert head.headers == [("A", "1"), ("B", "x y")]
    empty = h1.RequestHead("GET", "/", "/", None, "HTTP/1.1", [], "")
    empty.compact()
    assert empty.headers == [] and empty.get("host") is None


def test_method_and_protocol_strings_are_shared_between_requests():
    a = _head(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    b = _head(b"GET /y HTTP/1.1\r\nHost: h\r\n\r\n")
    assert a.method is b.method and a.protocol is b.protocol
