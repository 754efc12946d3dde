"""`return 301 $scheme://$host$request_uri;` sends the expanded URL, on nginx and on this server alike."""
from tests.frontdoor.wire import exchange


def test_return_expands_variables_as_nginx(server):
    got = exchange(server.port, b"GET /redirect?x=1&y=%20 HTTP/1.1\r\nHost: Example.ORG:8080\r\n\r\n")
    assert got.statuses == (301,)
    location = [line for line in got.heads[0].split(b"\r\n") if line.lower().startswith(b"location:")]
    assert location == [b"Location: http://example.org/redirect?x=1&y=%20"]
