"""RFC 6455 frames without I/O: the one frame parser, frame building and masking.

* `parse(buf, have, limit, rules)` reads the frame starting at `buf[0]`
  (`have` bytes valid) and answers one of three things:
  `None` (need more bytes), an `int` (a violation: `violation(n)` gives its
  exception, which carries the close code), or a tuple
  `(first_byte, payload, end, payload_len, key)`: `first_byte` holds FIN,
  the RSV bits and the opcode for the layer above; `payload` is the unmasked
  payload (`bytes`) when the whole frame lies in the buffer, else None, and
  then `end` is the header's length and the caller reads `payload_len` more
  bytes, unmasking them with `key` (the 4-byte masking key; None when the
  frame is unmasked).  With the payload there, `key` only tells the mask
  bit: True (masked) or None.
  Every wire rule is checked here, in upstream's order, as soon as the bytes
  that decide it are there: RSV bits (RSV1 passes with `RSV1_ALLOWED`, for
  an extension), reserved opcodes, the masking rule, the 64-bit length's top
  bit, control frames' length and FIN, and `limit`.
* `frame_head` / `build_frame`, `apply_mask`.
* `Opcode` and `CloseCode` (IntEnums: equal to upstream's integers);
  `FrameError` and its subclasses carry the close code answering them.

`websocket._speedups` has the same `parse` and `apply_mask` in C (same
arguments, same results); the names here are whichever is in use, and
`py_parse` / `py_apply_mask` are always the Python ones.
"""
from __future__ import annotations

import math
import os
import struct
from enum import IntEnum

from cosocket.text import lua_tostring


class Opcode(IntEnum):
    """Frame opcodes (RFC 6455 section 5.2)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(IntEnum):
    """Close status codes (RFC 6455 section 7.4.1, and the IANA registry)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005
    ABNORMAL = 1006
    INVALID_PAYLOAD = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


#: opcode -> the frame type name recv_frame returns.
TYPES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}

#: The largest length the 64-bit length field can carry (its top bit must be 0).
MAX_FRAME_LEN = (1 << 63) - 1

# parse's rules (bit flags)
MASK_REQUIRED = 1  # unmasked frames are refused (a server reading a client)
MASK_REFUSED = 2  # masked frames are refused (a strict client reading a server)
RSV1_ALLOWED = 4  # an extension (permessage-deflate) gives RSV1 a meaning

#: The RSV1 bit of a frame's first byte; `frame_head(fin, RSV1 | opcode, ...)` sets it.
RSV1 = 0x40


class FrameError(Exception):
    """A frame or message the rules refuse; `str(exc)` is the error string, `close_code` the answer."""

    close_code = CloseCode.PROTOCOL_ERROR


class ProtocolError(FrameError):
    """A wire or sequencing rule broken: close 1002."""


class InvalidPayload(FrameError):
    """Invalid UTF-8 in a text payload or close reason: close 1007."""

    close_code = CloseCode.INVALID_PAYLOAD


class TooBig(FrameError):
    """A frame or message over its limit: close 1009."""

    close_code = CloseCode.MESSAGE_TOO_BIG


#: parse's violations, by the number it returns (C and Python alike).
VIOLATIONS = (
    None,
    (ProtocolError, "bad RSV1, RSV2, or RSV3 bits"),
    (ProtocolError, "reserved non-control frames"),
    (ProtocolError, "reserved control frames"),
    (ProtocolError, "frame unmasked"),
    (ProtocolError, "frame masked"),
    (ProtocolError, "payload len too large"),
    (ProtocolError, "too long payload for control frame"),
    (ProtocolError, "fragmented control frame"),
    (TooBig, "exceeding max payload len"),
)


def violation(n: int) -> FrameError:
    """The exception for parse's violation number `n`."""
    kind, message = VIOLATIONS[n]
    return kind(message)


def limit_of(max_payload_len) -> int:
    """A `max_payload_len` as the integer parse compares lengths with (`len > limit` refuses)."""
    if type(max_payload_len) is int:
        return max_payload_len if max_payload_len < MAX_FRAME_LEN else MAX_FRAME_LEN
    if isinstance(max_payload_len, float):
        if max_payload_len != max_payload_len or max_payload_len >= MAX_FRAME_LEN:
            return MAX_FRAME_LEN  # NaN compares false: nothing exceeds it
        return math.floor(max_payload_len)
    if isinstance(max_payload_len, int):
        return min(int(max_payload_len), MAX_FRAME_LEN)
    raise TypeError("bad max_payload_len: number expected, got %s" % type(max_payload_len).__name__)


# Below this size one big-integer XOR is the fastest unmasking in CPython;
# above it, four strided bytes.translate passes win (measured on 3.10+).
_INT_MASK_LIMIT = 16384
_IDENTITY = int.from_bytes(bytes(range(256)), "big")
_xor_tables: dict = {}


def _xor_table(b: int) -> bytes:
    table = _xor_tables.get(b)
    if table is None:
        table = _xor_tables[b] = (_IDENTITY ^ int.from_bytes(bytes((b,)) * 256, "big")).to_bytes(256, "big")
    return table


def apply_mask(data, key) -> bytes:
    """XOR `data` with the 4-byte masking `key` repeated (masking and unmasking are the same): new bytes."""
    if len(key) != 4:
        raise ValueError("masking key must be 4 bytes, got %d" % len(key))
    key = bytes(key)
    n = len(data)
    if n < _INT_MASK_LIMIT:
        if n == 0:
            return bytes()
        stream = (key * ((n >> 2) + 1))[:n]
        return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    out = bytearray(data)
    for i in range(4):
        out[i::4] = out[i::4].translate(_xor_table(key[i]))
    return bytes(out)


def parse(buf, have: int, limit: int, rules: int):
    """The frame at the start of `buf[:have]`: None (need more), a violation number, or
    `(first_byte, payload, end, payload_len, key)` (see the module's docstring)."""
    if have < 2:
        return None
    fst = buf[0]
    snd = buf[1]
    if fst & (0x30 if rules & RSV1_ALLOWED else 0x70):
        return 1
    opcode = fst & 0x0F
    if 0x3 <= opcode <= 0x7:
        return 2
    if opcode >= 0xB:
        return 3
    masked = snd & 0x80
    if not masked:
        if rules & MASK_REQUIRED:
            return 4
    elif rules & MASK_REFUSED:
        return 5
    plen = snd & 0x7F
    head = 2
    if plen == 126:
        head = 4
        if have < 4:
            return None
        plen = (buf[2] << 8) | buf[3]
    elif plen == 127:
        head = 10
        if have < 10:
            return None
        if buf[2] & 0x80:
            return 6
        plen = int.from_bytes(buf[2:10], "big")
    if masked:
        head += 4
        if have < head:
            return None
    if opcode & 0x8:
        if plen > 125:
            return 7
        if not fst & 0x80:
            return 8
    if plen > limit:
        return 9
    end = head + plen
    if have < end:
        return fst, None, head, plen, bytes(buf[head - 4:head]) if masked else None
    if not plen:
        payload = b""
    elif masked:
        payload = apply_mask(buf[head:end], buf[head - 4:head])
    else:
        payload = bytes(buf[head:end])
    return fst, payload, end, plen, True if masked else None


def stage_error(buf, have: int) -> str:
    """What a read failing with `buf[:have]` in hand was waiting for, in upstream's words."""
    if have < 2:
        return "failed to receive the first 2 bytes"
    plen = buf[1] & 0x7F
    if plen == 126 and have < 4:
        return "failed to receive the 2 byte payload length"
    if plen == 127 and have < 10:
        return "failed to receive the 8 byte payload length"
    return "failed to read masking-len and payload"


#: The pure-Python versions, whichever is in use below.
py_apply_mask = apply_mask
py_parse = parse
try:  # the optional C extension (setup.py builds it when a compiler is there)
    from websocket._speedups import apply_mask  # noqa: F811
except ImportError:
    pass
try:
    from websocket._speedups import parse  # noqa: F811
except ImportError:
    pass


#: The 2-byte heads of unmasked final text (1) and binary (2) frames up to 125 bytes, by opcode: made once.
SHORT_HEADS = {op: [bytes((0x80 | op, n)) for n in range(126)] for op in (0x1, 0x2)}
_pack_head16 = struct.Struct(">BBH").pack


def frame_head(fin, opcode: int, payload_len: int, masking) -> bytes:
    """The first 2, 4 or 10 bytes of a frame (no masking key); ValueError beyond the 64-bit field.

    `opcode` may carry RSV bits above its 4 bits (`RSV1 | opcode`: a compressed message's first frame).
    """
    if payload_len <= 125 and fin is True and not masking and (opcode == 0x2 or opcode == 0x1):
        return SHORT_HEADS[opcode][payload_len]
    fst = (0x80 | opcode) if fin else opcode
    mask_bit = 0x80 if masking else 0
    if payload_len <= 125:
        return bytes((fst, mask_bit | payload_len))
    if payload_len <= 0xFFFF:
        return _pack_head16(fst, mask_bit | 126, payload_len)
    if payload_len <= MAX_FRAME_LEN:
        return bytes((fst, mask_bit | 127)) + payload_len.to_bytes(8, "big")
    raise ValueError("payload too big")


def build_frame(fin, opcode: int, payload_len: int, payload, masking) -> bytes:
    """The wire bytes of one frame (`payload` is bytes of `payload_len` bytes).

    Raises ValueError for a length the 64-bit field cannot carry.
    """
    head = frame_head(fin, opcode, payload_len, masking)
    if masking:
        key = os.urandom(4)
        return head + key + apply_mask(payload, key)
    return head + payload


def valid_close_code(code: int) -> bool:
    """Whether a received close frame may carry `code` (RFC 6455 section 7.4 and the IANA registry)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def payload_bytes(payload) -> bytes:
    """The bytes a payload argument stands for: None -> b"", str -> UTF-8, others as Lua's tostring."""
    if payload is None:
        return b""
    kind = type(payload)
    if kind is bytes:
        return payload
    if kind is str:
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return str(payload).encode("utf-8")
    return lua_tostring(payload).encode("utf-8")


def close_payload(code, msg):
    """A close frame's body for `code` and `msg`, or None for a bad status code (upstream's rule: a number <= 0x7fff)."""
    if code is None:
        return b""
    if isinstance(code, bool) or not isinstance(code, (int, float)) or code != code:
        return None
    if code > 0x7FFF or code < 0 or int(code) != code:
        return None
    code = int(code)
    return bytes((code >> 8, code & 0xFF)) + payload_bytes(msg)
