"""Reading a request body from the connection as it arrives: by Content-Length or chunked.

Memory follows the bytes the client sends, never the length it announces:
the body is collected piece by piece from the connection's read buffer.
"""
from __future__ import annotations

from typing import Optional

from .h1 import ChunkedDecoder, ChunkError


class BodyError(Exception):
    """Reading the body failed: `status` to finalize with (400, 408, 413) or 0 (connection broken)."""

    def __init__(self, status: int, log_msg: str = ""):
        super().__init__(log_msg)
        self.status = status
        self.log_msg = log_msg


def read_body(sock, length: Optional[int], chunked: bool, max_size: int) -> bytes:
    """The whole request body from `sock` (its stream API), by Content-Length or chunked coding; BodyError."""
    if chunked:
        return _read_chunked(sock, max_size)
    if not length:
        return b""
    buf = sock.rbuf
    pieces = []
    left = length
    while left:
        if not buf:
            err = sock.fill()
            if err is not None:
                raise _body_error(err)
        take = len(buf) if len(buf) < left else left
        pieces.append(bytes(buf[:take]))
        sock.consume(take)
        left -= take
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _body_error(err) -> BodyError:
    if err == "timeout":
        return BodyError(408, "client timed out (110: Connection timed out) while reading client request body")
    return BodyError(0, "client prematurely closed connection")


def _read_chunked(sock, max_size: int) -> bytes:
    decoder = ChunkedDecoder()
    buf = sock.rbuf
    pieces = []
    while True:
        if buf:
            try:
                data, used = decoder.feed(buf)
            except ChunkError:
                raise BodyError(400, "client sent invalid chunked body") from None
            sock.consume(used)
            if max_size and decoder.size_seen > max_size:
                raise BodyError(413, "client intended to send too large chunked body: %d bytes"
                                % decoder.size_seen)
            if data:
                pieces.append(data)
            if decoder.done:
                return b"".join(pieces)
        err = sock.fill()
        if err is not None:
            raise _body_error(err)
