"""permessage-deflate (RFC 7692), sans-I/O: negotiation and per-message (de)compression.

Nothing here reads or writes a socket.  The handshake code asks this module
for the header to send and for the parameters agreed; the frame code asks a
`PerMessageDeflate` to compress a whole message or to inflate a message
fragment by fragment.

Negotiation (RFC 7692 section 7):

* `parse_extensions(values)` parses `Sec-WebSocket-Extensions` (one or
  several header values, several offers per value, quoted values,
  parameters with and without a value).
* `Options` is what one side is willing to do (the `permessage_deflate`
  option of `server.new`/`client.new`: `True` or a dict of the four
  parameters plus `level` and `mem_level`).
* The server: `Options.accept(header_values)` -> `(Agreement or None,
  response header or None)`: the first acceptable `permessage-deflate`
  offer is taken; an offer with an unknown or repeated parameter or a value
  out of range is declined, never an error.
* The client: `Options.offer()` is the header to send, and
  `Options.check_response(header_values)` -> `(Agreement or None, err)`
  refuses a response the client did not offer or cannot accept.

Compression (RFC 7692 section 7.2): `PerMessageDeflate(agreement,
is_server)` keeps one compressor (the side's own window and context
takeover) and one decompressor (the peer's).  `compress(message)` returns
the payload of a compressed message (the trailing 00 00 ff ff stripped);
`inflate(fragment, final, limit)` inflates one fragment, appending the tail
at the end of the message, and never produces more than `limit` bytes
(`InflateError` with close code 1009 past it, 1007 for a stream that does
not inflate).  zlib's state is created on first use, and dropped after
each message in a direction without context takeover, so an idle
connection holds only what context takeover requires.

Compress once for many receivers: a `PreparedMessage` builds its frame once
uncompressed and once compressed per window size, for every connection
whose peer agreed `server_no_context_takeover` (the endpoints'
`send_prepared`).

zlib refuses a raw deflate window of 8 bits (256 bytes) for compression:
when 8 is agreed for our side we compress with 9, as other implementations
do.  This stays within the agreement because zlib's deflate never emits a
distance beyond the window size minus 262 bytes of lookahead (250 bytes for
a 512-byte window), below the 256 bytes the peer's window holds.  Inflating
with 8 bits works as specified.
"""
from __future__ import annotations

import zlib
from typing import Optional

from .frames import RSV1, CloseCode, frame_head

EXTENSION = "permessage-deflate"

CLOSE_INVALID_PAYLOAD = CloseCode.INVALID_PAYLOAD
CLOSE_TOO_BIG = CloseCode.MESSAGE_TOO_BIG

_TAIL = b"\x00\x00\xff\xff"
_PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
           "server_max_window_bits", "client_max_window_bits")
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WINDOW_VALUES = {str(n): n for n in range(8, 16)}  # RFC 7692: exactly "8" .. "15"

DEFAULT_LEVEL = 6
DEFAULT_MEM_LEVEL = 8

#: What `permessage_deflate=True` means for a server (see `Options.from_option`).
# level 1: zlib's fastest. On chat messages and JSON updates it compresses within a few percent of
# level 6 for a fraction of the CPU, which a server pays for every message it sends.
SERVER_DEFAULTS = {"server_max_window_bits": 12, "client_max_window_bits": 12, "mem_level": 5, "level": 1}


class InflateError(Exception):
    """A compressed message that cannot be accepted; `code` is the close code (1007 or 1009)."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------- header parsing
def _token(s: str, i: int):
    j = i
    n = len(s)
    while j < n and s[j] in _TOKEN_CHARS:
        j += 1
    if j == i:
        raise ValueError("expected a token at %d in %r" % (i, s))
    return s[i:j], j


def _skip_ws(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in " \t":
        i += 1
    return i


def _quoted(s: str, i: int):
    """A quoted-string starting at s[i] == '"'; returns (unescaped text, next index)."""
    out = []
    i += 1
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            i += 1
            if i >= n:
                break
            c = s[i]
        out.append(c)
        i += 1
    raise ValueError("unterminated quoted string in %r" % s)


def parse_extensions(values):
    """Parse `Sec-WebSocket-Extensions` header values into `[(name, [(param, value or None), ...]), ...]`.

    `values` is one header value or a list of them (a header repeated is a
    list joined with commas).  Names and parameter names are lowercased;
    a quoted value must be a token once unquoted (RFC 6455 section 9.1).
    Raises `ValueError` on a malformed header.
    """
    if isinstance(values, (str, bytes)):
        values = [values]
    result = []
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        s = value
        n = len(s)
        i = _skip_ws(s, 0)
        while i < n:
            if s[i] == ",":  # empty list elements are allowed by the #rule
                i = _skip_ws(s, i + 1)
                continue
            name, i = _token(s, i)
            params = []
            i = _skip_ws(s, i)
            while i < n and s[i] == ";":
                i = _skip_ws(s, i + 1)
                pname, i = _token(s, i)
                i = _skip_ws(s, i)
                pvalue = None
                if i < n and s[i] == "=":
                    i = _skip_ws(s, i + 1)
                    if i < n and s[i] == '"':
                        pvalue, i = _quoted(s, i)
                        if not pvalue or any(c not in _TOKEN_CHARS for c in pvalue):
                            raise ValueError("quoted value is not a token in %r" % s)
                    else:
                        pvalue, i = _token(s, i)
                    i = _skip_ws(s, i)
                params.append((pname.lower(), pvalue))
            result.append((name.lower(), params))
            if i < n:
                if s[i] != ",":
                    raise ValueError("unexpected %r at %d in %r" % (s[i], i, s))
                i = _skip_ws(s, i + 1)
    return result


def _check_params(params, response: bool):
    """The parameters of one permessage-deflate element as a dict, or None if unacceptable.

    Unknown and repeated parameters, a value on a flag, a window size that is
    not exactly 8..15, and (in a response) client_max_window_bits without a
    value are all unacceptable.
    """
    seen = {}
    for name, value in params:
        if name not in _PARAMS or name in seen:
            return None
        if name.endswith("no_context_takeover"):
            if value is not None:
                return None
            seen[name] = True
        elif value is None:
            if name == "server_max_window_bits" or response:
                return None
            seen[name] = True  # client_max_window_bits without a value: supported, no limit given
        else:
            bits = _WINDOW_VALUES.get(value)
            if bits is None:
                return None
            seen[name] = bits
    return seen


# ---------------------------------------------------------------- agreement and options
class Agreement:
    """The parameters both sides agreed on (window bits are always numbers, 15 when not limited)."""

    __slots__ = ("server_no_context_takeover", "client_no_context_takeover",
                 "server_max_window_bits", "client_max_window_bits", "header")

    def __init__(self, server_no_context_takeover=False, client_no_context_takeover=False,
                 server_max_window_bits=15, client_max_window_bits=15, header=EXTENSION):
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.header = header  # the response header as sent by the server

    def as_dict(self) -> dict:
        """The agreed parameters as a plain dict (what `wb.extensions` shows)."""
        return {name: getattr(self, name) for name in _PARAMS}

    def __repr__(self):
        return "Agreement(%s)" % ", ".join("%s=%r" % kv for kv in self.as_dict().items())

    def __eq__(self, other):
        return isinstance(other, Agreement) and self.as_dict() == other.as_dict()


def _bits(value):
    """A window size in bits, or None for None/True (no value)."""
    return value if type(value) is int else None


def _window_option(value, name, allow_true=True):
    if value is None or value is False:
        return None
    if value is True and allow_true:
        return True
    if type(value) is int and 8 <= value <= 15:
        return value
    raise ValueError("bad %s: %r (8..15%s or None)" % (name, value, ", True" if allow_true else ""))


class Options:
    """What one side is willing to negotiate and how it compresses.

    `server_no_context_takeover` / `client_no_context_takeover`: ask for (or,
    on the side concerned, declare) a reset of the compression context after
    every message.  `server_max_window_bits` / `client_max_window_bits`:
    8..15 to limit the window, or None.  For a client,
    `client_max_window_bits=True` (the default) offers the parameter without
    a value, telling the server it may limit the client's window.  For a
    server, `client_max_window_bits` is applied when the client offers the
    parameter (a client that does not is still accepted, with a 15-bit
    window).  `level` (-1..9, -1 being zlib's default, 6) and `mem_level` (1..9) are zlib's.
    """

    __slots__ = ("server_no_context_takeover", "client_no_context_takeover",
                 "server_max_window_bits", "client_max_window_bits", "level", "mem_level")

    def __init__(self, server_no_context_takeover=False, client_no_context_takeover=False,
                 server_max_window_bits=None, client_max_window_bits=True,
                 level=DEFAULT_LEVEL, mem_level=DEFAULT_MEM_LEVEL):
        self.server_no_context_takeover = bool(server_no_context_takeover)
        self.client_no_context_takeover = bool(client_no_context_takeover)
        self.server_max_window_bits = _window_option(server_max_window_bits, "server_max_window_bits", False)
        self.client_max_window_bits = _window_option(client_max_window_bits, "client_max_window_bits")
        if not (isinstance(level, int) and -1 <= level <= 9):
            raise ValueError("bad level: %r (-1..9)" % (level,))
        if not (isinstance(mem_level, int) and 1 <= mem_level <= 9):
            raise ValueError("bad mem_level: %r (1..9)" % (mem_level,))
        self.level = level
        self.mem_level = mem_level

    @classmethod
    def from_option(cls, value, server: bool = False):
        """The `permessage_deflate` option: `None`/`False` -> None (no compression), `True` -> the
        side's defaults, a dict -> its settings over the side's defaults.

        A server's defaults bound its memory and CPU per connection
        (`SERVER_DEFAULTS`: 12-bit windows both ways, memLevel 5 and level 1,
        about 50 KiB held by an idle connection instead of about 300 KiB with
        zlib's own defaults); a
        client's are zlib's (15-bit windows, memLevel 8), offering
        `client_max_window_bits` without a value.
        """
        if value is None or value is False:
            return None
        if isinstance(value, cls):
            return value
        settings = dict(SERVER_DEFAULTS) if server else {}
        if value is True:
            return cls(**settings)
        if isinstance(value, dict):
            unknown = set(value) - set(cls.__slots__)
            if unknown:
                raise ValueError("unknown permessage_deflate setting: %s" % ", ".join(sorted(unknown)))
            settings.update(value)
            return cls(**settings)
        raise ValueError("bad permessage_deflate option: %r" % (value,))

    # ------------------------------------------------------------ server side
    def accept(self, header_values):
        """Choose among a client's offers: `(Agreement, response header)` or `(None, None)`.

        `header_values` is the request's `Sec-WebSocket-Extensions` (one value,
        a list of values, or None).  A malformed header declines every offer.
        """
        if not header_values:
            return None, None
        try:
            offers = parse_extensions(header_values)
        except ValueError:
            return None, None
        for name, params in offers:
            if name != EXTENSION:
                continue
            offer = _check_params(params, response=False)
            if offer is None:
                continue
            agreement = self._answer(offer)
            if agreement is not None:
                return agreement, agreement.header
        return None, None

    def _answer(self, offer):
        snct = self.server_no_context_takeover or "server_no_context_takeover" in offer
        cnct = self.client_no_context_takeover or "client_no_context_takeover" in offer
        parts = [EXTENSION]
        if snct:
            parts.append("server_no_context_takeover")
        if cnct:
            parts.append("client_no_context_takeover")
        smwb = offer.get("server_max_window_bits")
        if self.server_max_window_bits is not None and (smwb is None or self.server_max_window_bits < smwb):
            smwb = self.server_max_window_bits
        if smwb is not None:
            parts.append("server_max_window_bits=%d" % smwb)
        # None: not offered (the client may use 15 bits), True: offered without a value
        cmwb = offer.get("client_max_window_bits")
        mine = self.client_max_window_bits
        if cmwb is not None and _bits(mine) is not None and (cmwb is True or mine < cmwb):
            cmwb = mine
        cmwb = _bits(cmwb)
        if cmwb is not None:
            parts.append("client_max_window_bits=%d" % cmwb)
        return Agreement(snct, cnct, smwb or 15, cmwb or 15, "; ".join(parts))

    # ------------------------------------------------------------ client side
    def offer(self) -> str:
        """The client's `Sec-WebSocket-Extensions` header value."""
        parts = [EXTENSION]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_max_window_bits is not None:
            parts.append("server_max_window_bits=%d" % self.server_max_window_bits)
        if self.client_max_window_bits is True:
            parts.append("client_max_window_bits")
        elif self.client_max_window_bits is not None:
            parts.append("client_max_window_bits=%d" % self.client_max_window_bits)
        return "; ".join(parts)

    def check_response(self, header_values):
        """Validate the server's `Sec-WebSocket-Extensions` against our offer: `(Agreement or None, err)`.

        No header (or an empty one) means nothing was agreed: `(None, None)`.
        Anything we did not offer or cannot accept returns `(None, err)`, and
        the handshake must fail.
        """
        if not header_values:
            return None, None
        try:
            elements = parse_extensions(header_values)
        except ValueError:
            return None, "bad Sec-WebSocket-Extensions response header"
        if not elements:
            return None, None
        if len(elements) > 1:
            return None, "server accepted more than one extension"
        name, params = elements[0]
        if name != EXTENSION:
            return None, "server accepted an extension not offered: %s" % name
        got = _check_params(params, response=True)
        if got is None:
            return None, "bad permessage-deflate parameters in the response"
        if self.server_no_context_takeover and "server_no_context_takeover" not in got:
            return None, "permessage-deflate response lacks server_no_context_takeover"
        smwb = got.get("server_max_window_bits")
        if self.server_max_window_bits is not None:
            if smwb is None or smwb > self.server_max_window_bits:
                return None, "permessage-deflate response exceeds server_max_window_bits=%d" % (
                    self.server_max_window_bits)
        cmwb = got.get("client_max_window_bits")
        mine = self.client_max_window_bits
        if cmwb is not None:
            if mine is None:
                return None, "permessage-deflate response has client_max_window_bits, not offered"
            if _bits(mine) is not None and cmwb > mine:
                return None, "permessage-deflate response exceeds client_max_window_bits=%d" % mine
        else:
            cmwb = _bits(mine)
        header = header_values if isinstance(header_values, str) else ", ".join(
            v.decode("latin-1") if isinstance(v, bytes) else v for v in header_values)
        return Agreement("server_no_context_takeover" in got,
                         self.client_no_context_takeover or "client_no_context_takeover" in got,
                         smwb or 15, cmwb or 15, header), None


def unoffered_extension(header_values):
    """For a client that offered no extension: an error string if the server answered one anyway, else None."""
    if not header_values:
        return None
    try:
        elements = parse_extensions(header_values)
    except ValueError:
        return "bad Sec-WebSocket-Extensions response header"
    if elements:
        return "server accepted an extension not offered: %s" % elements[0][0]
    return None


# ---------------------------------------------------------------- compression
def _compress_bits(bits: int) -> int:
    return -9 if bits == 8 else -bits  # see the module docstring: zlib's deflate has no 8-bit raw window


def compressor(window_bits: int = 15, level: int = DEFAULT_LEVEL, mem_level: int = DEFAULT_MEM_LEVEL):
    """A raw-deflate zlib compressor for an agreed window size."""
    return zlib.compressobj(level, zlib.DEFLATED, _compress_bits(window_bits), mem_level)


def compress_message(data, window_bits: int = 15, level: int = DEFAULT_LEVEL,
                     mem_level: int = DEFAULT_MEM_LEVEL) -> bytes:
    """The payload of one message compressed without context (no takeover).

    Such a payload may be sent as is, RSV1 set, to every connection whose
    peer agreed `server_no_context_takeover` (as the server) with a window of
    at least `window_bits`: compress once, send to many.
    """
    c = compressor(window_bits, level, mem_level)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


class PerMessageDeflate:
    """One connection's compression state for one side (server or client) of an agreement."""

    __slots__ = ("agreement", "is_server", "level", "mem_level", "send_bits", "send_reset",
                 "recv_bits", "recv_reset", "_deflater", "_inflater", "_in_message", "header")

    def __init__(self, agreement: Agreement, is_server: bool, level: int = DEFAULT_LEVEL,
                 mem_level: int = DEFAULT_MEM_LEVEL):
        self.agreement = agreement
        self.is_server = is_server
        self.level = level
        self.mem_level = mem_level
        if is_server:
            self.send_bits, self.send_reset = agreement.server_max_window_bits, agreement.server_no_context_takeover
            self.recv_bits, self.recv_reset = agreement.client_max_window_bits, agreement.client_no_context_takeover
        else:
            self.send_bits, self.send_reset = agreement.client_max_window_bits, agreement.client_no_context_takeover
            self.recv_bits, self.recv_reset = agreement.server_max_window_bits, agreement.server_no_context_takeover
        self._deflater = None
        self._inflater = None
        self._in_message = False
        #: the Sec-WebSocket-Extensions value of the agreement, as the handshake sent or received it
        self.header: Optional[str] = None

    # ------------------------------------------------------------ sending
    def compress(self, data) -> bytes:
        """The payload (RSV1 to be set on its first frame) of one whole message."""
        if self.send_reset:
            # a compressor per message: nothing to refer back to, and no zlib state kept while idle
            # (creating one costs about as much as compressing 64 bytes)
            d = compressor(self.send_bits, self.level, self.mem_level)
        else:
            d = self._deflater
            if d is None:
                d = self._deflater = compressor(self.send_bits, self.level, self.mem_level)
        out = d.compress(data) + d.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4]

    def can_share(self, window_bits: int = 15) -> bool:
        """True when a payload of `compress_message(data, window_bits)` may be sent to this peer."""
        return self.send_reset and window_bits <= self.send_bits

    # ------------------------------------------------------------ receiving
    def inflate(self, data, final: bool, limit=None) -> bytes:
        """Inflate one fragment of a compressed message (`final`: its last fragment).

        At most `limit` bytes come out (None: no limit); one more raises
        `InflateError(1009)` before more memory is spent.  A stream that does
        not inflate raises `InflateError(1007)`.
        """
        d = self._inflater
        if d is None:
            d = self._inflater = zlib.decompressobj(-self.recv_bits)
        self._in_message = True
        try:
            out = self._feed(d, data, limit)
            if final:
                if d.eof:  # the sender ended its deflate stream (a block with BFINAL set)
                    rest = d.unused_data
                    if rest:
                        raise InflateError(CLOSE_INVALID_PAYLOAD, "data after the end of the deflate stream")
                else:
                    more = self._feed(d, _TAIL, None if limit is None else limit - len(out))
                    if more:
                        out += more
                self._end_message()
            elif d.eof and d.unused_data:
                raise InflateError(CLOSE_INVALID_PAYLOAD, "data after the end of the deflate stream")
        except zlib.error as exc:
            self._inflater = None
            self._in_message = False
            raise InflateError(CLOSE_INVALID_PAYLOAD, "invalid compressed data: %s" % exc) from None
        except InflateError:
            self._inflater = None
            self._in_message = False
            raise
        return out

    @staticmethod
    def _feed(d, data, limit) -> bytes:
        if d.eof:
            if data:
                raise InflateError(CLOSE_INVALID_PAYLOAD, "data after the end of the deflate stream")
            return b""
        if limit is None:
            return d.decompress(data)
        out = d.decompress(data, max(limit, 0) + 1)
        if len(out) > limit:
            raise InflateError(CLOSE_TOO_BIG, "inflated message too big")
        return out

    def _end_message(self) -> None:
        self._in_message = False
        d = self._inflater
        if self.recv_reset or d.eof:
            self._inflater = None  # a fresh context for the next message; frees the window meanwhile

    def zlib_state(self):
        """`(compressor held, decompressor held)`: which zlib objects this connection keeps right now."""
        return self._deflater is not None, self._inflater is not None

    def abort_message(self) -> None:
        """Forget a message inflated partly (the connection is failing)."""
        self._inflater = None
        self._in_message = False

    def __repr__(self):
        return "PerMessageDeflate(%r, is_server=%r)" % (self.agreement, self.is_server)


class PreparedMessage:
    """One message for many connections: its frames built once, plain and compressed.

    `data` is `str` (a text message) or bytes (binary).  `frame(None)` is the
    unmasked frame of the message uncompressed; `frame(window_bits)` the
    unmasked frame of the message compressed without context (RSV1 set),
    made once per window size and kept.  A server connection sends the
    compressed frame as is when its client agreed `server_no_context_takeover`
    with at least that window (see `PerMessageDeflate.can_share`), the plain
    one when nothing was agreed, and compresses for itself otherwise (the
    endpoints' `send_prepared` makes that choice).
    """

    __slots__ = ("payload", "opcode", "level", "mem_level", "_frames")

    def __init__(self, data, level: int = DEFAULT_LEVEL, mem_level: int = DEFAULT_MEM_LEVEL):
        if isinstance(data, str):
            self.payload = data.encode("utf-8")
            self.opcode = 0x1
        else:
            self.payload = bytes(data)
            self.opcode = 0x2
        self.level = level
        self.mem_level = mem_level
        self._frames = {}

    @property
    def is_text(self) -> bool:
        """True for a text message."""
        return self.opcode == 0x1

    def frame(self, window_bits=None) -> bytes:
        """The whole unmasked frame: uncompressed (None) or compressed with `window_bits`."""
        frame = self._frames.get(window_bits)
        if frame is None:
            if window_bits is None:
                payload, first = self.payload, self.opcode
            else:
                payload = compress_message(self.payload, window_bits, self.level, self.mem_level)
                first = RSV1 | self.opcode
            frame = self._frames[window_bits] = frame_head(True, first, len(payload), False) + payload
        return frame
