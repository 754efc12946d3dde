"""Plain HTTP sent to a TLS port: nginx's 400 "The plain HTTP request was sent to HTTPS port" page, then the
close, from both servers."""
from tests.frontdoor.wire import exchange


def test_plain_http_on_the_tls_port_gets_the_400_page(server):
    got = exchange(server.ssl_port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert (got.statuses, got.closed) == ((400,), True)
    assert b"<title>400 The plain HTTP request was sent to HTTPS port</title>" in got.bodies[0]
    assert b"Connection: close" in got.heads[0]
