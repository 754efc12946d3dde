"""Query arguments decoded as lua-nginx-module decodes them (ngx.req.get_uri_args with max_args 3),
the same query to Debian's nginx and to this server.  (Empty `&&` pieces do not count toward max_args
there, while ngx.decode_args counts them: tests/cosocket/test_helpers.py holds that one's rules.)"""
import pytest

from tests.frontdoor.wire import exchange

QUERIES = [
    b"a=1&b=2", b"a=1&a=2&a=3", b"a&b=&=c", b"a+b=c+d", b"a%20b=c%2Bd", b"&&&a=1", b"a=1&&b=2&c=3",
    b"a=1&b=2&c=3&d=4", b"a=1&b=2&c=3&", b"k=%zz&j=%4", b"x==y", b"a=1;b=2", b"%41=%42",
]


@pytest.mark.parametrize("query", QUERIES, ids=[q.decode() for q in QUERIES])
def test_query_arguments_decode_as_nginx(nginx, ours, query):
    data = b"GET /args?" + query + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    theirs, mine = exchange(nginx.port, data, idle=0.3), exchange(ours.port, data, idle=0.3)
    assert theirs.statuses == (200,)
    assert mine.bodies == theirs.bodies
