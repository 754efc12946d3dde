"""Raw permessage-deflate peers for the conformance tests: crafted compressed frames both ways.

The raw client offering extensions to the real server is wire.RawWS(..., extensions=...);
`DeflatePeer` is a raw gevent server answering websocket.client's handshake
with a chosen Sec-WebSocket-Extensions response, then sending crafted bytes.
`deflate(data, bits)` / `Inflater(bits)` are plain zlib references, independent
of websocket.deflate.
"""
from __future__ import annotations

import zlib

from .rawpeer import HandshakePeer
from .wire import header_values

TAIL = b"\x00\x00\xff\xff"


def deflate(data: bytes, bits: int = 15, compressor=None) -> bytes:
    """A compressed message payload (raw deflate, sync flush, tail stripped); `compressor` keeps context."""
    c = compressor or zlib.compressobj(6, zlib.DEFLATED, -max(bits, 9))
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


class Inflater:
    """A reference receiver: one zlib inflater across messages (context takeover) or one per message."""

    def __init__(self, bits: int = 15, takeover: bool = True):
        self.bits = bits
        self.takeover = takeover
        self.d = zlib.decompressobj(-bits)

    def message(self, payload: bytes) -> bytes:
        if not self.takeover:
            self.d = zlib.decompressobj(-self.bits)
        return self.d.decompress(payload + TAIL)


class DeflatePeer(HandshakePeer):
    """A raw server answering with `extensions` (None: no header), then sending `script`.

    `request_extensions` is what the client offered; `frames` the client's
    frames as `(fin, rsv, opcode, payload)`, read until its close frame or EOF.
    """

    def __init__(self, extensions=None, script: bytes = b"", read_for: float = 0.5):
        self.extensions = extensions
        self.request_extensions = None
        super().__init__(script, read_for)

    def response_headers(self, head):
        offered = header_values(head, "Sec-WebSocket-Extensions")
        self.request_extensions = b", ".join(offered).decode() if offered else None
        return b"" if self.extensions is None else b"Sec-WebSocket-Extensions: %s\r\n" % self.extensions.encode()

    def record(self, fin, rsv, opcode, payload, masked):
        self.frames.append((fin, rsv, opcode, payload))
