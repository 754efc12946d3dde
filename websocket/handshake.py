"""The opening handshake's rules, shared by server and client (RFC 6455 section 4), without I/O.

GUID and accept key, the key check, the subprotocol choice on each side, and
the client's reading of the server's response head (status line and headers).
Error strings are upstream's where upstream has them.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import sys
from typing import Dict, Optional, Tuple

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_STRICT_B64 = sys.version_info >= (3, 11)
_STATUS_LINE = re.compile(r"^\s*HTTP/1\.1\s+")
_STATUS_CODE = re.compile(r"^\s*HTTP/1\.1\s+(\d{3})(?:\s|$)")


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return binascii.b2a_base64(hashlib.sha1(key.encode("latin-1") + GUID).digest(), newline=False).decode("ascii")


def new_key() -> str:
    """A fresh Sec-WebSocket-Key: base64 of 16 random bytes."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def valid_key(key: str) -> bool:
    """Whether a Sec-WebSocket-Key is what RFC 6455 section 4.1 requires: base64 of 16 bytes."""
    if len(key) != 24:
        return False
    try:
        if _STRICT_B64:  # binascii's own strict check (3.11+): no regular expression per handshake
            return len(binascii.a2b_base64(key, strict_mode=True)) == 16
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def protocol_list(value, fname: str):
    """A server's `protocols` option as a list of names (a string is one name), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError("%s: option 'protocols' must be a string or a list of strings" % fname)


def choose_protocol(offered, supported):
    """The first of the client's `offered` subprotocols (a header value, comma-separated) in `supported`, or None."""
    if not offered:
        return None
    for name in offered.split(","):
        name = name.strip()
        if name in supported:
            return name
    return None


def status_line_ok(head: str) -> bool:
    """Whether a response head starts with an HTTP/1.1 status line."""
    return _STATUS_LINE.match(head) is not None


def parse_response_head(head: str) -> Tuple[Optional[str], Dict[str, str]]:
    """Status code and lower-cased headers (the first value of each) of a response head (no final blank line)."""
    lines = head.split("\r\n")
    m = _STATUS_CODE.match(lines[0])
    status = m.group(1) if m else None
    headers: dict = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    return status, headers


def header_values(head: str, lower_name: str) -> list:
    """Every value of a header (name in lower case) in a response head, in order (a header may repeat)."""
    values = []
    for line in head.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == lower_name:
            values.append(value.strip())
    return values


def check_response(status: Optional[str], headers: Dict[str, str], key: str) -> Optional[str]:
    """The error string for a handshake response that does not accept `key`, else None."""
    if status != "101":
        return "bad HTTP response status: %s" % (status or "nil")
    upgrade = headers.get("upgrade")
    if upgrade is None or upgrade.lower() != "websocket":
        return 'bad "upgrade" response header: %s' % ("nil" if upgrade is None else upgrade)
    connection = headers.get("connection")
    if connection is None or "upgrade" not in [t.strip() for t in connection.lower().split(",")]:
        return 'bad "connection" response header: %s' % ("nil" if connection is None else connection)
    accept = headers.get("sec-websocket-accept")
    if accept != accept_key(key):
        return 'bad "sec-websocket-accept" response header: %s' % ("nil" if accept is None else accept)
    return None


def chosen_protocol(headers: Dict[str, str], offered) -> Tuple[Optional[str], Optional[str]]:
    """`(protocol, err)`: the server's Sec-WebSocket-Protocol answer, which must be one we offered.

    An upstream OpenResty server copies the whole offered list back: that
    answer is accepted too (and is then the protocol as given).
    """
    chosen = headers.get("sec-websocket-protocol")
    if chosen is None:
        return None, None
    names = [name.strip() for name in offered.split(",")] if offered else []
    if chosen in names or (offered is not None and chosen == offered.strip()):
        return chosen, None
    return None, 'bad "sec-websocket-protocol" response header: %s' % chosen
