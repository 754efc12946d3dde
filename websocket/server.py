"""The WebSocket server (`resty.websocket.server`): the handshake on the current request.

    wb, err = server.new(timeout=5000, max_payload_len=65535)
    if wb is None:
        ngx.log(ngx.ERR, "failed to new websocket: ", err)
        ngx.exit(444)
    data, typ, err = wb.recv_frame()

`new` answers the upgrade request through the ngx API exactly as upstream
does (101, Upgrade, Sec-WebSocket-Accept, the first requested subprotocol
list echoed back, no Content-Type), then takes the raw request socket.

Beyond upstream (see websocket/message.py): `recv_message()`, `close()`,
`wb.protocol`, and the options `protocols` (choose one of the client's
subprotocols instead of echoing the list), `strict`, `pass_pings`,
`max_message_len` and `permessage_deflate` (RFC 7692 compression, off by
default; `wb.extensions` tells what was agreed).
"""
from __future__ import annotations

import gc
from typing import Any, Dict, List, Optional, Tuple

import gevent

from cosocket import runtime
from cosocket.types import OkErr, Payload
from cosocket.server.request import upgrade
from cosocket.ngx import ngx

from .deflate import Options as DeflateOptions
from .deflate import PerMessageDeflate
from .message import Endpoint
from .handshake import accept_key, choose_protocol, protocol_list, valid_key
from .protocol import CLOSE_GOING_AWAY, ENDPOINT_OPTIONS, endpoint_options, take_options

_NEW_OPTIONS = ENDPOINT_OPTIONS + ("send_masked", "protocols", "permessage_deflate")


#: endpoint_options' answers by option set: a handler passes the same few numbers on every call.  The key
#: holds the names, values and value types (True and 1 are different options); unhashable values skip it.
_checked: Dict[tuple, Dict[str, Any]] = {}
_CHECKED_LIMIT = 64


def _endpoint_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """endpoint_options(options, "new"), remembered for option sets of hashable values (read-only)."""
    key = (tuple(options.items()), tuple(map(type, options.values())))
    try:
        common = _checked.get(key)
    except TypeError:
        return endpoint_options(options, "new")
    if common is None:
        common = endpoint_options(options, "new")
        if len(_checked) < _CHECKED_LIMIT:
            _checked[key] = common
    return common


def _first(value):
    """A repeated request header gives a list: upstream uses its first value."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def new(opts: Optional[Dict[str, Any]] = None, **kw: Any) -> Tuple[Optional[WebSocketServer], Optional[str]]:
    """Perform the handshake on the current request: `(wb, err)`.

    Options: max_payload_len (65535), max_recv_len, max_send_len,
    send_masked (False), timeout (ms), and beyond upstream:

    * protocols: the subprotocols this server speaks (a list of names).
      The answer carries the first of the client's offered subprotocols
      found in it, and none when nothing matches.  Without this option the
      request's Sec-WebSocket-Protocol value is copied back as upstream does.
      Either way `wb.protocol` is the value answered (or None).
    * strict (False): apply RFC 6455's rules to `recv_frame` too.
    * pass_pings (False): `recv_message` returns pings and pongs instead of
      answering / dropping them.
    * max_message_len: the largest message `recv_message` accepts (default:
      max_recv_len); a bigger one is refused with close code 1009.
    * permessage_deflate (off): `True` or a dict of settings (the four
      RFC 7692 parameters, `level`, `mem_level`; see
      `websocket.deflate.Options`) to accept a client's permessage-deflate
      offer.  `wb.extensions` is then the Sec-WebSocket-Extensions value
      answered and `wb.permessage_deflate` the parameters agreed (both None
      when nothing was).  Limits apply to inflated sizes.
    * ping_interval, ping_timeout (ms; off by default): heartbeats.  While no
      frame arrives for ping_interval, `recv_frame`/`recv_message` send a
      ping; when no frame at all arrives within ping_timeout (default:
      ping_interval) of it, the connection is closed with 1011 and the
      pending receive returns `(None, None, "ping timeout")`.  No greenlet of
      its own: the waits are the receive's own.
    """
    options = take_options(opts, kw, _NEW_OPTIONS, "new")
    supported = protocol_list(options.get("protocols"), "new")
    common = _endpoint_options(options)
    try:
        deflate_options = DeflateOptions.from_option(options.get("permessage_deflate"), server=True)
    except (TypeError, ValueError) as exc:
        raise TypeError("new: option 'permessage_deflate': %s" % exc) from None

    # the ngx.* calls lua-resty-websocket makes, done on the request object itself (one lookup)
    r = runtime.get_request("ngx.headers_sent")
    if r.headers_sent:
        return None, "response header already sent"
    if not r.raw_acquired:
        r.read_body()  # ngx.req.read_body()
    head = r.head
    if head.http_version != 1.1:
        return None, "bad http version"
    if head.line_count() <= 100:  # what ngx.req.get_headers() sees: the first value of each name
        get = head.get
    else:
        request_headers = ngx.req.get_headers()

        def get(name):
            return _first(request_headers.get(name))

    val = get("upgrade")
    if val is None or val.lower() != "websocket":
        return None, 'bad "upgrade" request header: %s' % ("nil" if val is None else val)
    val = get("connection")
    if val is None or "upgrade" not in val.lower():
        return None, 'bad "connection" request header'
    key = get("sec-websocket-key")
    if key is None:
        return None, 'bad "sec-websocket-key" request header'
    if not valid_key(key):
        return None, 'bad "sec-websocket-key" request header: not base64 of 16 bytes'
    ver = get("sec-websocket-version")
    if ver != "13":
        return None, 'bad "sec-websocket-version" request header'

    protocols = get("sec-websocket-protocol")
    if supported is not None:
        protocols = choose_protocol(protocols, supported)
    headers = [("Upgrade", "websocket"), ("Sec-WebSocket-Accept", accept_key(key)), ("Content-Type", None)]
    if protocols is not None:
        headers.insert(0, ("Sec-WebSocket-Protocol", protocols))
    agreement = answer = None
    if deflate_options is not None:
        agreement, answer = deflate_options.accept(
            [value for name, value in head.headers if name.lower() == "sec-websocket-extensions"])
        if agreement is not None:
            headers.append(("Sec-WebSocket-Extensions", answer))
    sock, err = upgrade(r, headers)
    if sock is None:
        return None, err

    if common["timeout"] is not None:
        sock.settimeout(common["timeout"])
    wb = WebSocketServer(sock, common["max_recv_len"], common["max_send_len"], bool(options.get("send_masked")), True,
                         is_server=True, strict=common["strict"], pass_pings=common["pass_pings"],
                         max_message_len=common["max_message_len"], ping_interval=common["ping_interval"],
                         ping_timeout=common["ping_timeout"])
    wb.protocol = protocols
    if agreement is not None:
        wb.use_deflate(PerMessageDeflate(agreement, True, deflate_options.level, deflate_options.mem_level),
                       answer)  # type: ignore[arg-type]  # accept() answers with its agreement
    _hook_going_away()
    return wb, None


# The server WebSockets of this process are told "going away" (1001) when the server stops gracefully.
# They are found then by a scan of the collector's objects (once, at the stop) rather than kept in a
# registry: no bookkeeping, and no memory, per connection.
_hooked = False


def _hook_going_away() -> None:
    """In a server worker, hook the graceful stop once (at the first WebSocket)."""
    global _hooked
    if not _hooked and runtime.worker.id is not None:
        from cosocket.server import worker
        _hooked = True
        worker.on_stopping(_going_away_all)  # a stop, not a reload: sessions outlive a reload


def _open_websockets() -> List["WebSocketServer"]:
    """The server WebSockets of this process still referenced (open or not yet collected)."""
    return [o for o in gc.get_objects() if isinstance(o, WebSocketServer)]


def _going_away_all() -> None:
    for wb in _open_websockets():
        gevent.spawn(wb.going_away)


class WebSocketServer(Endpoint):
    """A server WebSocket over the request's raw socket: upstream's frame methods, messages, `close`."""

    __slots__ = ("__weakref__",)  # (channels attach by weak reference)

    def going_away(self, wait_ms: int = 1000) -> None:
        """Send close 1001 unless a close frame was sent or the connection ended (the worker is exiting).

        Runs beside the handler: a send in progress is waited for (at most
        `wait_ms`) so frames never interleave.  The handler's next recv then
        gets the client's answering close frame and ends the connection.
        """
        for _ in range(max(1, wait_ms // 10)):
            if self.fatal or self.ended or self.close_sent:
                return
            if not self.sock.is_writing():
                break
            gevent.sleep(0.01)
        else:
            return
        self.send_close(CLOSE_GOING_AWAY, "server shutting down")

    def close(self, code: Optional[int] = None, reason: Payload = None) -> OkErr:
        """Close the connection: `(ok, err)`.

        Sends a close frame (with the optional `code` and `reason`) unless one
        was sent, waits for the client's close frame (frames before it are
        dropped), at most the read timeout, then closes the TCP connection.
        """
        if self.fatal:
            return None, "fatal error already happened"
        if self.ended:
            return 1, None
        if not self.close_sent:
            sent, err = self.send_close(code, reason)
            if sent is None:
                if err != "bad status code":
                    self.fatal = True
                    self.ended = True
                    self.sock.abort()
                    return None, "failed to send close frame: %s" % err
                return None, err
            if self.ended:  # the client's close had already come
                return 1, None
        self._wait_peer_close()
        self._end()
        return 1, None
