"""The WebSocket server (`resty.websocket.server`): the handshake on the current request.

    wb, err = server.new(timeout=5000, max_payload_len=65535)
    if wb is None:
        ngx.log(ngx.ERR, "failed to new websocket: ", err)
        ngx.exit(444)
    data, typ, err = wb.recv_frame()

`new` answers the upgrade request through the ngx API exactly as upstream
does (101, Upgrade, Sec-WebSocket-Accept, the first requested subprotocol
list echoed back, no Content-Type), then takes the raw request socket.
"""
from __future__ import annotations

import base64
import hashlib

from cosocket.ngx import ngx

from .protocol import Channel, number_option, take_options

_NEW_OPTIONS = ("max_payload_len", "max_recv_len", "max_send_len", "send_masked", "timeout")
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _first(value):
    """A repeated request header gives a list: upstream uses its first value."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _ok(result):
    """(ok, err) from an ngx call answering `ok` alone or an `(ok, err)` tuple."""
    if isinstance(result, tuple):
        return (result + (None, None))[:2]
    return result, None


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode("latin-1") + _GUID).digest()).decode("ascii")


def new(opts=None, **kw):
    """Perform the handshake on the current request: `(wb, err)`.

    Options: max_payload_len (65535), max_recv_len, max_send_len,
    send_masked (False), timeout (ms).
    """
    options = take_options(opts, kw, _NEW_OPTIONS, "new")
    max_payload_len = number_option(options, "max_payload_len", "new")
    max_recv_len = number_option(options, "max_recv_len", "new")
    max_send_len = number_option(options, "max_send_len", "new")
    timeout = number_option(options, "timeout", "new")

    if ngx.headers_sent:
        return None, "response header already sent"
    ngx.req.read_body()
    if ngx.req.http_version() not in (1.1, "1.1"):
        return None, "bad http version"

    headers = ngx.req.get_headers()
    val = _first(headers.get("upgrade"))
    if val is None or val.lower() != "websocket":
        return None, 'bad "upgrade" request header: %s' % ("nil" if val is None else val)
    val = _first(headers.get("connection"))
    if val is None or "upgrade" not in val.lower():
        return None, 'bad "connection" request header'
    key = _first(headers.get("sec-websocket-key"))
    if key is None:
        return None, 'bad "sec-websocket-key" request header'
    ver = _first(headers.get("sec-websocket-version"))
    if ver != "13":
        return None, 'bad "sec-websocket-version" request header'

    protocols = _first(headers.get("sec-websocket-protocol"))
    header = ngx.header
    if protocols is not None:
        header["Sec-WebSocket-Protocol"] = protocols
    header["Upgrade"] = "websocket"
    header["Sec-WebSocket-Accept"] = accept_key(key)
    header["Content-Type"] = None
    ngx.status = 101

    ok, err = _ok(ngx.send_headers())
    if not ok:
        return None, "failed to send response header: %s" % (err or "unknown")
    ok, err = _ok(ngx.flush(True))
    if not ok:
        return None, "failed to flush response header: %s" % (err or "unknown")
    sock, err = ngx.req.socket(True)
    if sock is None:
        return None, err

    if timeout is not None:
        sock.settimeout(timeout)
    if max_payload_len is None:
        max_payload_len = 65535
    wb = WebSocketServer(sock,
                         max_payload_len if max_recv_len is None else max_recv_len,
                         max_payload_len if max_send_len is None else max_send_len,
                         bool(options.get("send_masked")), True)
    return wb, None


class WebSocketServer(Channel):
    """A server WebSocket over the request's raw socket: the frame methods of `Channel`."""

    __slots__ = ()
