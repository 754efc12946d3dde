"""The records the channels broker and its workers exchange over their unix socket.

Every record is a 4-byte big-endian length (of what follows), a 1-byte type
and a body.  Channel names are UTF-8, at most 65535 bytes (the channels API
allows far less); message kinds are 1 (text) and 2 (binary).

Worker -> broker:
    S name                               subscribe this worker to a channel
    U name                               unsubscribe
    P kind name data                     publish
    H req since name                     history request (req: u32, since: u64)
Broker -> worker:
    W epoch                              welcome: the broker's start id (ASCII)
    M kind offset name data              a message (offset: u64)
    h req status last n (kind offset len data)*n    history reply
                                         (status 0: covered, 1: the history no longer covers `since`)
"""
from __future__ import annotations

import struct
from typing import List, Tuple

TEXT = 1
BINARY = 2

_LEN = struct.Struct(">I")
_NAME = struct.Struct(">H")
_PUB = struct.Struct(">IcBH")  # length, type, kind, name length
_MSG = struct.Struct(">IcBQH")  # length, type, kind, offset, name length
_HREQ = struct.Struct(">IcIQ")  # length, type, req, since
_HREP = struct.Struct(">IcIBQI")  # length, type, req, status, last offset, count
_ITEM = struct.Struct(">BQI")

# record types, as split() returns them
SUB, UNSUB, PUB, HIST = ord("S"), ord("U"), ord("P"), ord("H")
WELCOME, MSG, HIST_REPLY = ord("W"), ord("M"), ord("h")

#: The largest record either side accepts (a bigger length means a broken peer).
MAX_RECORD = 1 << 30


def name_record(kind: bytes, name: bytes) -> bytes:
    """S / U records."""
    return _LEN.pack(1 + len(name)) + kind + name


def publish(kind: int, name: bytes, data: bytes) -> bytes:
    return _PUB.pack(4 + len(name) + len(data), b"P", kind, len(name)) + name + data


def message(kind: int, offset: int, name: bytes, data: bytes) -> bytes:
    return _MSG.pack(12 + len(name) + len(data), b"M", kind, offset, len(name)) + name + data


def history_request(req: int, since: int, name: bytes) -> bytes:
    return _HREQ.pack(13 + len(name), b"H", req, since) + name


def history_reply(req: int, status: int, last: int, items: List[Tuple[int, int, bytes]]) -> bytes:
    """`items`: (kind, offset, data) in offset order."""
    parts = [b""]
    size = 18
    for kind, offset, data in items:
        parts.append(_ITEM.pack(kind, offset, len(data)))
        parts.append(data)
        size += 13 + len(data)
    parts[0] = _HREP.pack(size, b"h", req, status, last, len(items))
    return b"".join(parts)


def welcome(epoch: str) -> bytes:
    data = epoch.encode("ascii")
    return _LEN.pack(1 + len(data)) + b"W" + data


def split(buf: bytearray) -> List[Tuple[int, bytes]]:
    """The (type, body) of every complete record at the start of `buf`, deleted from it.

    Raises ValueError for a record longer than MAX_RECORD (the peer is broken).
    """
    pos = 0
    end = len(buf)
    out = []
    while end - pos >= 5:
        (n,) = _LEN.unpack_from(buf, pos)
        if n > MAX_RECORD or n < 1:
            raise ValueError("bad record length %d" % n)
        if end - pos - 4 < n:
            break
        out.append((buf[pos + 4], bytes(buf[pos + 5:pos + 4 + n])))
        pos += 4 + n
    if pos:
        del buf[:pos]
    return out


def parse_publish(body) -> Tuple[int, bytes, bytes]:
    kind = body[0]
    (nlen,) = _NAME.unpack_from(body, 1)
    return kind, bytes(body[3:3 + nlen]), bytes(body[3 + nlen:])


def parse_message(body) -> Tuple[int, int, bytes, bytes]:
    kind = body[0]
    offset, nlen = struct.unpack_from(">QH", body, 1)
    return kind, offset, bytes(body[11:11 + nlen]), bytes(body[11 + nlen:])


def parse_history_request(body) -> Tuple[int, int, bytes]:
    req, since = struct.unpack_from(">IQ", body, 0)
    return req, since, bytes(body[12:])


def parse_history_reply(body) -> Tuple[int, int, int, List[Tuple[int, int, bytes]]]:
    req, status, last, count = struct.unpack_from(">IBQI", body, 0)
    pos = 17
    items = []
    for _ in range(count):
        kind, offset, n = _ITEM.unpack_from(body, pos)
        pos += 13
        items.append((kind, offset, bytes(body[pos:pos + n])))
        pos += n
    return req, status, last, items
