"""The WebSocket client (`resty.websocket.client`) on a cosocket.

    wb, err = client.new(timeout=1000)
    ok, err, res = wb.connect("ws://127.0.0.1:8080/s", protocols=["chat"])
    bytes_, err = wb.send_text("hello")
    data, typ, err = wb.recv_frame()
    ok, err = wb.close()           # or wb.set_keepalive()

Beyond upstream, `connect` checks the handshake response (status 101,
Upgrade, Connection, Sec-WebSocket-Accept, a bounded head size) and refuses
header values containing CR or LF.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional, Tuple

from cosocket import log
from cosocket.tcp import tcp
from cosocket.types import CountErr, OkErr, Payload

from . import handshake
from .deflate import Options as DeflateOptions
from .deflate import PerMessageDeflate, unoffered_extension
from .message import Endpoint
from .protocol import ENDPOINT_OPTIONS, OP_CLOSE, close_payload, endpoint_options, take_options

_NEW_OPTIONS = ENDPOINT_OPTIONS + ("send_unmasked", "permessage_deflate")
_CONNECT_OPTIONS = ("protocols", "origin", "pool", "pool_size", "backlog", "ssl_verify", "headers",
                    "client_cert", "client_priv_key", "host", "server_name", "key")

#: The largest handshake response head (status line + headers) accepted.
MAX_RESPONSE_HEAD = 16384

# upstream's URI syntax, ws[s]://host[:port][path] and ws[s]://unix:/path/to.sock:[path], read as a URL
# parser reads it: a host holds no space, control character, bracket or delimiter (an IPv6 literal is
# bracketed whole), the port is ASCII digits
_URI = re.compile(r"^(wss?)://(\[[0-9A-Fa-f:.]+(?:%[^\]\s]+)?\]|[^:/?#\[\]@\\\x00-\x20\x7f]+)(?::([0-9]+))?([/?].*|)$",
                  re.S)
# what may not appear in the path sent on the request line (the fragment is never part of a WebSocket URI)
_BAD_PATH = re.compile(r"[\x00-\x20\x7f#]")
_UNIX_URI = re.compile(r"^(wss?)://(unix:[^:]+):(.*)", re.S)


def new(opts: Optional[Dict[str, Any]] = None, **kw: Any) -> Tuple[Optional[WebSocketClient], Optional[str]]:
    """A client object: `(wb, err)`.

    Options: max_payload_len (65535), max_recv_len, max_send_len,
    send_unmasked, timeout (ms), and beyond upstream: strict (False: apply
    RFC 6455's rules, masked server frames refused included, to
    `recv_frame` too), pass_pings (False: `recv_message` returns pings and
    pongs instead of answering / dropping them), max_message_len (default
    max_recv_len: the largest message `recv_message` accepts),
    permessage_deflate (off: `True` or a dict of settings, see
    `websocket.deflate.Options`: `connect` offers RFC 7692 compression, and
    `wb.extensions` / `wb.permessage_deflate` tell what the server agreed;
    a response the client did not offer or cannot accept fails `connect`),
    ping_interval and ping_timeout (ms, off by default: heartbeats, as
    `websocket.server.new` describes them).
    """
    options = take_options(opts, kw, _NEW_OPTIONS, "new")
    common = endpoint_options(options, "new")
    try:
        deflate_options = DeflateOptions.from_option(options.get("permessage_deflate"))
    except (TypeError, ValueError) as exc:
        raise TypeError("new: option 'permessage_deflate': %s" % exc) from None
    sock = tcp()
    if common["timeout"] is not None:
        sock.settimeout(common["timeout"])
    wb = WebSocketClient(sock, common["max_recv_len"], common["max_send_len"], not options.get("send_unmasked"), False,
                         is_server=False, strict=common["strict"], pass_pings=common["pass_pings"],
                         max_message_len=common["max_message_len"], ping_interval=common["ping_interval"],
                         ping_timeout=common["ping_timeout"])
    wb.deflate_options = deflate_options
    return wb, None


def _has_crlf(value: str) -> bool:
    return "\r" in value or "\n" in value


def _check_value(name: str, value):
    """An error string when a header value cannot be sent as is, else None."""
    if _has_crlf(value):
        return 'bad "%s" header value: contains CR or LF' % name
    return None


class WebSocketClient(Endpoint):
    """A client WebSocket: `connect`, `close`, `set_keepalive`, the frame methods and `recv_message`."""

    __slots__ = ("deflate_options",)
    deflate_options: Optional[DeflateOptions]

    def connect(self, uri: str, opts: Optional[Dict[str, Any]] = None,
                **kw: Any) -> Tuple[Optional[int], Optional[str], Optional[str]]:
        """Connect and perform the opening handshake: `(ok, err, res)`.

        `res` is the response head (status line and headers, without the
        final blank line), or "connection reused" for a pooled connection.
        """
        if not isinstance(uri, str):
            raise TypeError("bad argument #1 to 'connect' (string expected, got %s)" % type(uri).__name__)
        options = take_options(opts, kw, _CONNECT_OPTIONS, "connect")
        self._restart()
        self.protocol = None

        is_unix = "unix:" in uri
        m = (_UNIX_URI if is_unix else _URI).match(uri)
        if m is None:
            return None, "bad websocket uri", None
        scheme, addr = m.group(1), m.group(2)
        if is_unix:
            port, path = None, m.group(3)
        else:
            port, path = m.group(3), m.group(4)
        ssl = scheme == "wss"
        port = int(port) if port else (443 if ssl else 80)
        if path == "" or path.startswith("?"):
            path = "/" + path
        if _BAD_PATH.search(path):
            return None, "bad websocket uri", None

        protocols = options.get("protocols")
        if protocols is not None:
            if isinstance(protocols, (list, tuple)):
                protocols = ",".join(str(p) for p in protocols)
            elif not isinstance(protocols, str):
                raise TypeError("connect: option 'protocols' must be a string or a list of strings")
            err = _check_value("Sec-WebSocket-Protocol", protocols)
            if err:
                return None, err, None
        origin = options.get("origin")
        if origin is not None:
            if not isinstance(origin, str):
                raise TypeError("connect: option 'origin' must be a string")
            err = _check_value("Origin", origin)
            if err:
                return None, err, None

        sock_opts = {}
        for name in ("pool", "pool_size", "backlog"):
            if options.get(name) is not None:
                sock_opts[name] = options[name]

        client_cert = options.get("client_cert")
        client_priv_key = options.get("client_priv_key")
        if client_cert is not None and client_priv_key is None:
            raise TypeError("client_priv_key must be provided with client_cert")
        ssl_verify = bool(options.get("ssl_verify"))

        server_name = options.get("server_name")
        if server_name is not None and not isinstance(server_name, str):
            return None, "SSL server_name must be a string", None
        headers = options.get("headers")
        if headers is not None:
            if not isinstance(headers, (list, tuple)):
                return None, "custom headers must be a table", None
            for line in headers:
                if not isinstance(line, str):
                    raise TypeError("connect: custom headers must be strings like \"Name: value\"")
                if _has_crlf(line):
                    return None, "bad custom header: contains CR or LF", None
        header_host = options.get("host")
        if header_host is not None:
            if not isinstance(header_host, str):
                return None, "custom host header must be a string", None
            err = _check_value("Host", header_host)
            if err:
                return None, err, None
        key = options.get("key")
        if key is not None:
            if not isinstance(key, str):
                return None, "custom Sec-WebSocket-Key must be a string", None
            err = _check_value("Sec-WebSocket-Key", key)
            if err:
                return None, err, None

        sock = self.sock
        if is_unix:
            ok, err = sock.connect(addr, sock_opts)
        else:
            host = addr[1:-1] if addr.startswith("[") else addr
            ok, err = sock.connect(host, port, sock_opts)
        if not ok:
            return None, "failed to connect: %s" % err, None

        reused, err = sock.getreusedtimes()
        if reused is None:
            return None, "failed to get reused times: %s" % ("nil" if err is None else err), None
        if reused > 0:
            return 1, None, "connection reused"

        if ssl:
            if client_cert is not None:
                ok, err = sock.setclientcert(client_cert, client_priv_key)
                if not ok:
                    sock.close()
                    return None, "failed to set TLS client certificate: %s" % err, None
            sni = server_name or header_host or addr
            ok, err = sock.sslhandshake(False, sni, ssl_verify)
            if not ok:
                sock.close()
                return None, "ssl handshake failed: %s" % err, None

        if key is None:
            key = handshake.new_key()
        if header_host is None:
            header_host = "unix_sock" if is_unix else "%s:%d" % (addr, port)
        parts = ["GET ", path, " HTTP/1.1\r\nUpgrade: websocket\r\nHost: ", header_host,
                 "\r\nSec-WebSocket-Key: ", key]
        if protocols is not None:
            parts += ["\r\nSec-WebSocket-Protocol: ", protocols]
        if self.deflate_options is not None:
            parts += ["\r\nSec-WebSocket-Extensions: ", self.deflate_options.offer()]
        parts.append("\r\nSec-WebSocket-Version: 13")
        if origin is not None:
            parts += ["\r\nOrigin: ", origin]
        parts.append("\r\nConnection: Upgrade")
        if headers:
            parts += ["\r\n", "\r\n".join(headers)]
        parts.append("\r\n\r\n")
        sent, err = sock.send("".join(parts).encode("utf-8"))
        if sent is None:
            sock.close()
            return None, "failed to send the handshake request: %s" % err, None

        raw, err = sock.read_until(b"\r\n\r\n", MAX_RESPONSE_HEAD)
        if raw is None:
            sock.close()
            if err == "too large":
                return None, "failed to receive response header: too large (over %d bytes)" % MAX_RESPONSE_HEAD, None
            return None, "failed to receive response header: %s" % err, None
        head = raw[:-4].decode("utf-8", "replace")
        if not handshake.status_line_ok(head):
            sock.close()
            return None, "bad HTTP response status line: %s" % head, None
        status, response_headers = handshake.parse_response_head(head)
        err = handshake.check_response(status, response_headers, key)
        if err is None:
            self.protocol, err = handshake.chosen_protocol(response_headers, protocols)
        if err is None:
            err = self._agree_extensions(handshake.header_values(head, "sec-websocket-extensions"))
        if err:
            sock.close()
            return None, err, None
        return 1, None, head

    def _agree_extensions(self, answers: list):
        """Take the server's Sec-WebSocket-Extensions answer (every such header): an error string or None."""
        options = self.deflate_options
        if options is None:
            return unoffered_extension(answers)
        agreement, err = options.check_response(answers)
        if agreement is not None:
            self.use_deflate(PerMessageDeflate(agreement, False, options.level, options.mem_level),
                             agreement.header)
        return err

    def send_close(self, code: Optional[int] = None, msg: Payload = None) -> CountErr:
        """Send a close frame (once): `(bytes, err)`; later data frames answer "already closed"."""
        payload = close_payload(code, msg)
        if payload is None:
            return None, "bad status code"
        if log.enabled(log.DEBUG):
            log.error(log.DEBUG, "sending the close frame")
        sent, err = self.send_frame(True, OP_CLOSE, payload)
        if sent is None:
            self.fatal = True
        else:
            self.close_sent = True
        self.closed = True
        if sent is not None and self.close_received:
            self._end()
        return sent, err

    def close(self) -> OkErr:
        """Send a close frame if none was sent yet, then close the connection: `(ok, err)`.

        As upstream, this does not wait for the server's close frame; after a
        completed closing handshake (`recv_message` returned "close", or the
        server's close answered ours) the connection is already closed and
        this answers `(1, None)`.
        """
        if self.fatal:
            return None, "fatal error already happened"
        if self.ended:
            return 1, None
        if not self.closed:
            sent, err = self.send_close()
            if sent is None:
                return None, "failed to send close frame: %s" % err
            if self.ended:  # that close answered the server's: the handshake ended the connection
                return 1, None
        return self.sock.close()

    def set_keepalive(self, *args: Any) -> OkErr:
        """Put the connection into the cosocket pool: `(ok, err)`; `connect` makes the object usable again."""
        return self.sock.setkeepalive(*args)
