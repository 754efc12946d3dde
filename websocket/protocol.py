"""Upstream's `resty.websocket.protocol` calls, thin over the frame core:

* `recv_frame(sock, max_payload_len, force_masking)` -> `(data, typ, err)`
* `build_frame(fin, opcode, payload_len, payload, masking)` -> `bytes`
* `send_frame(sock, fin, opcode, payload, max_payload_len, masking)` -> `(bytes, err)`

plus upstream's names (OP_*, CLOSE_*, `Channel` re-exported from
`websocket.connection`) and the option handling `server.new` and `client.new`
share.  The wire rules are in `websocket.frames`, the socket driving in
`websocket.connection`.  Failures come back as upstream's error strings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from cosocket.types import CountErr, FrameResult, Payload

from . import frames
from .connection import (ERR_BAD_REASON, ERR_BAD_TEXT, ERR_CLOSE_BODY, ERR_CONTINUATION,  # noqa: F401
                         ERR_INTERLEAVED, ERR_TOO_BIG, MessageState)
from .connection import Channel  # noqa: F401
from .connection import recv_frame as _recv_frame
from .connection import send_frame as _send_frame
from .connection import send_framed  # noqa: F401
from .frames import (MAX_FRAME_LEN, TYPES, CloseCode, Opcode, apply_mask, close_payload,  # noqa: F401
                     payload_bytes, py_apply_mask, valid_close_code)

if TYPE_CHECKING:
    from cosocket.tcp import TCPSocket

# Opcodes and close codes under upstream's names (equal to the IntEnum members).
OP_CONTINUATION = Opcode.CONTINUATION
OP_TEXT = Opcode.TEXT
OP_BINARY = Opcode.BINARY
OP_CLOSE = Opcode.CLOSE
OP_PING = Opcode.PING
OP_PONG = Opcode.PONG

CLOSE_NORMAL = CloseCode.NORMAL
CLOSE_GOING_AWAY = CloseCode.GOING_AWAY
CLOSE_PROTOCOL_ERROR = CloseCode.PROTOCOL_ERROR
CLOSE_UNSUPPORTED_DATA = CloseCode.UNSUPPORTED_DATA
CLOSE_NO_STATUS = CloseCode.NO_STATUS
CLOSE_ABNORMAL = CloseCode.ABNORMAL
CLOSE_INVALID_PAYLOAD = CloseCode.INVALID_PAYLOAD
CLOSE_POLICY_VIOLATION = CloseCode.POLICY_VIOLATION
CLOSE_MESSAGE_TOO_BIG = CloseCode.MESSAGE_TOO_BIG
CLOSE_MANDATORY_EXTENSION = CloseCode.MANDATORY_EXTENSION
CLOSE_INTERNAL_ERROR = CloseCode.INTERNAL_ERROR
CLOSE_SERVICE_RESTART = CloseCode.SERVICE_RESTART
CLOSE_TRY_AGAIN_LATER = CloseCode.TRY_AGAIN_LATER
CLOSE_BAD_GATEWAY = CloseCode.BAD_GATEWAY
CLOSE_TLS_HANDSHAKE = CloseCode.TLS_HANDSHAKE

ERR_MASKED = "frame masked"


def recv_frame(sock: TCPSocket, max_payload_len: int, force_masking: bool = False, *,
               state: Optional[MessageState] = None, strict: bool = False,
               refuse_masked: bool = False) -> FrameResult:
    """Receive one frame: `(data, typ, err)`.

    `data` is `str` for text (and text continuation) frames, `bytes` for
    binary, ping and pong frames.  A close frame gives `(reason, "close",
    code)` (`("", "close", None)` without a body).  A non-final data frame
    gives `"again"` as `err`.  On failure: `(None, None, message)`.  Text
    messages are decoded across fragments with `state` (a MessageState); a
    call without it uses one kept per socket.

    `strict=True` (needs `state`) adds the RFC 6455 rules upstream leaves to
    the caller: fragment sequencing, `state.max_message_len`, close codes,
    and UTF-8 checked while a text payload arrives (failing at the first
    impossible byte, before the rest of the frame is read);
    `refuse_masked=True` refuses masked frames (a client reading a server).
    """
    return _recv_frame(sock, max_payload_len, force_masking, state, strict, refuse_masked)


def build_frame(fin: bool, opcode: int, payload_len: int, payload: bytes, masking: bool) -> bytes:
    """The wire bytes of one frame (`payload` is bytes of `payload_len` bytes).

    Raises ValueError for a length the 64-bit field cannot carry
    (`send_frame` checks it first and returns an error instead).
    """
    return frames.build_frame(fin, opcode, payload_len, payload, masking)


def send_frame(sock: TCPSocket, fin: bool, opcode: int, payload: Payload, max_payload_len: int,
               masking: bool) -> CountErr:
    """Build and send one frame with a single `sock.send`: `(bytes_sent, err)`."""
    return _send_frame(sock, fin, opcode, payload, max_payload_len, masking)


def take_options(opts, kw: dict, allowed: tuple, fname: str) -> dict:
    """Merge an options dict and keyword options; an unknown name raises TypeError naming it."""
    if opts is None:
        merged = dict(kw)
    elif isinstance(opts, dict):
        merged = dict(opts)
        merged.update(kw)
    else:
        raise TypeError("bad argument #1 to '%s' (table expected, got %s)" % (fname, type(opts).__name__))
    for name in merged:
        if name not in allowed:
            raise TypeError("%s: unknown option %r" % (fname, name))
    return merged


def number_option(options: dict, name: str, fname: str):
    """`options[name]` as a number, None when absent; TypeError for any other type."""
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s: option %r must be a number, got %s" % (fname, name, type(value).__name__))
    return value


#: The options server.new and client.new share (each adds its own).
ENDPOINT_OPTIONS = ("max_payload_len", "max_recv_len", "max_send_len", "timeout", "strict", "pass_pings",
                    "max_message_len", "ping_interval", "ping_timeout")


def endpoint_options(options: dict, fname: str) -> dict:
    """The shared options read and checked: max_recv_len and max_send_len (each defaulting to
    max_payload_len, 65535), timeout (ms or None), strict, pass_pings, max_message_len (or None),
    ping_interval and ping_timeout (given in ms, returned in seconds; None: no heartbeat)."""
    max_payload_len = number_option(options, "max_payload_len", fname)
    if max_payload_len is None:
        max_payload_len = 65535
    max_recv_len = number_option(options, "max_recv_len", fname)
    max_send_len = number_option(options, "max_send_len", fname)
    ping_interval = number_option(options, "ping_interval", fname)
    ping_timeout = number_option(options, "ping_timeout", fname)
    if ping_interval is not None and ping_interval <= 0:
        raise TypeError("%s: option 'ping_interval' must be a positive number of ms" % fname)
    if ping_timeout is not None and (ping_timeout <= 0 or ping_interval is None):
        raise TypeError("%s: option 'ping_timeout' must be a positive number of ms, with ping_interval" % fname)
    return {
        "ping_interval": None if ping_interval is None else ping_interval / 1000.0,
        "ping_timeout": None if ping_interval is None else (ping_timeout or ping_interval) / 1000.0,
        "max_recv_len": max_payload_len if max_recv_len is None else max_recv_len,
        "max_send_len": max_payload_len if max_send_len is None else max_send_len,
        "timeout": number_option(options, "timeout", fname),
        "strict": bool(options.get("strict")),
        "pass_pings": bool(options.get("pass_pings")),
        "max_message_len": number_option(options, "max_message_len", fname),
    }
