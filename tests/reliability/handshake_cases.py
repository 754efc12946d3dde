"""Bad upgrade requests and the error `server.new` answers each with (shared by the handshake tests)."""
import base64

from tests.reliability.wsraw import upgrade_request

#: (id, request bytes, the err string of server.new)
BAD_UPGRADES = [
    ("no-upgrade", upgrade_request(upgrade=None), 'bad "upgrade" request header: nil'),
    ("upgrade-h2c", upgrade_request(upgrade="h2c"), 'bad "upgrade" request header: h2c'),
    ("no-connection", upgrade_request(connection=None), 'bad "connection" request header'),
    ("connection-close", upgrade_request(connection="close"), 'bad "connection" request header'),
    ("no-key", upgrade_request(key=None), 'bad "sec-websocket-key" request header'),
    ("no-version", upgrade_request(version=None), 'bad "sec-websocket-version" request header'),
    ("version-8", upgrade_request(version="8"), 'bad "sec-websocket-version" request header'),
    ("http-1.0", upgrade_request().replace(b"HTTP/1.1", b"HTTP/1.0"), "bad http version"),
    # server.new reads ngx.req.get_headers(), which stops at 100 headers: an Upgrade after them is not seen
    ("upgrade-after-100-headers", upgrade_request(upgrade=None).replace(
        b"\r\n\r\n", b"\r\n" + b"".join(b"X-Filler-%d: 1\r\n" % i for i in range(100)) + b"Upgrade: websocket\r\n\r\n"),
     'bad "upgrade" request header: nil'),
]

#: Keys that are not the base64 of 16 bytes (RFC 6455 section 4.2.1, item 5).
BAD_KEYS = [
    ("not-base64", "this is not base64!!"),
    ("8-bytes", base64.b64encode(b"12345678").decode()),
    ("20-bytes", base64.b64encode(b"12345678901234567890").decode()),
    ("crlf-free-junk", "AAAAAAAAAAAAAAAAAAAAAA=="[:-2] + "%%"),
]
