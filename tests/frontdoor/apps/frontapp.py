"""The echo handler of the front-door tests: what the request looked like once the server accepted it.

Its Lua twin runs in Debian's nginx (tests/frontdoor/nginx.conf); both print
`METHOD URI cl=<Content-Length> te=<Transfer-Encoding> len=<body length>`.
"""
from cosocket import ngx


def echo():
    ngx.req.read_body()
    body = ngx.req.get_body_data() or b""
    ngx.say(ngx.req.get_method(), " ", ngx.var.request_uri,
            " cl=", ngx.var.http_content_length or "nil",
            " te=", ngx.var.http_transfer_encoding or "nil",
            " len=", len(body))


def args():
    """ngx.req.get_uri_args(3), one `[key]=[value]` line per key in sorted order (lists joined by commas)."""
    got = ngx.req.get_uri_args(3)
    for key in sorted(got):
        value = got[key]
        if isinstance(value, list):
            value = ",".join("true" if x is True else x for x in value)
        elif value is True:
            value = "true"
        ngx.say("[", key, "]=[", value, "]")
