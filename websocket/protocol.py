"""RFC 6455 frames: reading, building and sending them over a cosocket.

The one place for the wire rules (`resty.websocket.protocol`):

* `recv_frame(sock, max_payload_len, force_masking)` -> `(data, typ, err)`
* `build_frame(fin, opcode, payload_len, payload, masking)` -> `bytes`
* `send_frame(sock, fin, opcode, payload, max_payload_len, masking)` -> `(bytes, err)`

`sock` is anything with the cosocket `receive(n)` -> `(data, err, partial)`
and `send(data)` -> `(count, err)` calls.  Failures come back as upstream's
error strings.  Text payloads are decoded to `str` by an incremental UTF-8
decoder held in a `MessageState`, which the server and client objects keep
across fragments; a bare `recv_frame` call decodes one frame's text alone.
"""
from __future__ import annotations

import _thread
import codecs
import os
import struct
import threading
import weakref
from typing import Optional

from cosocket import log
from cosocket.stream import Stream
from cosocket.text import lua_tostring

# Opcodes (RFC 6455 section 5.2).
OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

#: opcode -> the frame type name recv_frame returns.
TYPES = {
    OP_CONTINUATION: "continuation",
    OP_TEXT: "text",
    OP_BINARY: "binary",
    OP_CLOSE: "close",
    OP_PING: "ping",
    OP_PONG: "pong",
}

# Close status codes (RFC 6455 section 7.4.1, and the IANA registry).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_MANDATORY_EXTENSION = 1010
CLOSE_INTERNAL_ERROR = 1011
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_BAD_GATEWAY = 1014
CLOSE_TLS_HANDSHAKE = 1015

#: The largest length the 64-bit length field can carry (its top bit must be 0).
MAX_FRAME_LEN = (1 << 63) - 1

# Error strings of our own (upstream passes payloads through undecoded).
ERR_BAD_TEXT = "invalid UTF-8 text payload"
ERR_BAD_REASON = "invalid UTF-8 close reason"
# ... and of the strict rules.
ERR_MASKED = "frame masked"
ERR_CONTINUATION = "unexpected continuation frame"
ERR_INTERLEAVED = "new data frame inside a fragmented message"
ERR_TOO_BIG = "message too big"

_new_decoder = codecs.getincrementaldecoder("utf-8")

# recv_frame's first read on an empty buffer goes into this per-process scratch buffer: a frame
# up to ~64 KiB that has arrived whole is unmasked straight out of it (one recv(), one copy);
# only bytes it does not consume are copied into the socket's own buffer
# (one per thread: a hub runs in one thread, but threads switch between any two bytecodes)
_SCRATCH_SIZE = 65536
_SCRATCH = memoryview(bytearray(_SCRATCH_SIZE))
_SCRATCH_THREAD = _thread.get_ident()
_thread_scratch = threading.local()


def _scratch() -> memoryview:
    """The scratch buffer of the calling thread."""
    if _thread.get_ident() == _SCRATCH_THREAD:
        return _SCRATCH
    view = getattr(_thread_scratch, "view", None)
    if view is None:
        view = _thread_scratch.view = memoryview(bytearray(_SCRATCH_SIZE))
    return view
# payloads from this size are unmasked through a memoryview of the buffer (no slice copy)
_ZERO_COPY_MIN = 2048

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


def apply_mask(data, key: bytes) -> bytes:
    """XOR `data` with the 4-byte masking `key` repeated (masking and unmasking are the same)."""
    n = len(data)
    if n < _INT_MASK_LIMIT:
        if n == 0:
            return b""
        stream = (key * ((n >> 2) + 1))[:n]
        return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    out = bytearray(data)
    for i in range(4):
        out[i::4] = out[i::4].translate(_xor_table(key[i]))
    return bytes(out)


#: The pure-Python masking, kept for the tests when the C version replaces it.
py_apply_mask = apply_mask
try:  # the optional C extension (setup.py builds it when a compiler is there): 8-55x faster
    from websocket._speedups import apply_mask  # noqa: F811
except ImportError:
    pass


class MessageState:
    """What the receiver remembers between the frames of one message.

    `opcode` is OP_TEXT or OP_BINARY while a fragmented message is in
    progress (None between messages); `received` counts its payload bytes
    so far; `decoder` is the incremental UTF-8 decoder of a text message,
    which keeps a character split across fragments until its last bytes
    arrive.  `max_message_len` bounds `received` in strict mode.
    """

    __slots__ = ("opcode", "decoder", "received", "max_message_len")

    def __init__(self, max_message_len=MAX_FRAME_LEN) -> None:
        self.opcode = None
        self.decoder = None
        self.received = 0
        self.max_message_len = max_message_len

    @property
    def in_text(self) -> bool:
        """True while a fragmented text message is in progress."""
        return self.opcode == OP_TEXT

    def reset(self) -> None:
        """Forget any message in progress (a new connection)."""
        self.opcode = None
        self.decoder = None
        self.received = 0


def valid_close_code(code: int) -> bool:
    """Whether a received close frame may carry `code` (RFC 6455 section 7.4 and the IANA registry)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


#: The close code a strict receiver sends for each refused frame (see `violation_code`).
_VIOLATIONS = {
    "bad RSV1, RSV2, or RSV3 bits": CLOSE_PROTOCOL_ERROR,
    "reserved non-control frames": CLOSE_PROTOCOL_ERROR,
    "reserved control frames": CLOSE_PROTOCOL_ERROR,
    "frame unmasked": CLOSE_PROTOCOL_ERROR,
    ERR_MASKED: CLOSE_PROTOCOL_ERROR,
    "too long payload for control frame": CLOSE_PROTOCOL_ERROR,
    "fragmented control frame": CLOSE_PROTOCOL_ERROR,
    "payload len too large": CLOSE_PROTOCOL_ERROR,
    "close frame with a body must carry a 2-byte status code": CLOSE_PROTOCOL_ERROR,
    ERR_CONTINUATION: CLOSE_PROTOCOL_ERROR,
    ERR_INTERLEAVED: CLOSE_PROTOCOL_ERROR,
    ERR_BAD_TEXT: CLOSE_INVALID_PAYLOAD,
    ERR_BAD_REASON: CLOSE_INVALID_PAYLOAD,
    "exceeding max payload len": CLOSE_MESSAGE_TOO_BIG,
    ERR_TOO_BIG: CLOSE_MESSAGE_TOO_BIG,
}


def violation_code(err: str):
    """The close code answering a frame refused with `err`, or None for a network failure."""
    code = _VIOLATIONS.get(err)
    if code is None and err.startswith("invalid close code "):
        return CLOSE_PROTOCOL_ERROR
    return code


def _fail(what: str, err) -> tuple:
    return None, None, "%s: %s" % (what, err if err is not None else "unknown")


# The message state of sockets read by bare recv_frame calls (no `state=`), so that text split across
# fragments decodes whole there too, as PYTHON-API.md section 3 wants.
_bare_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _socket_state(sock) -> Optional[MessageState]:
    try:
        state = _bare_states.get(sock)
        if state is None:
            state = _bare_states[sock] = MessageState()
        return state
    except TypeError:  # a socket object that takes no weak reference: one frame at a time
        return None


def recv_frame(sock, max_payload_len, force_masking=False, *, state: Optional[MessageState] = None,
               strict=False, refuse_masked=False):
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


def _recv_frame(sock, max_payload_len, force_masking, state, strict, refuse_masked):
    """`recv_frame` with every argument positional (what the frame methods of Channel and Endpoint call)."""
    if state is None:
        state = _socket_state(sock)
    if state is not None and state.opcode is None and isinstance(sock, Stream) and not log.enabled(log.DEBUG) \
            and not sock.is_reading():  # another reader's bytes are not ours to parse: receive() says busy
        # the fast path: a whole final data frame starting a message, parsed where it lies
        buf = sock.read_buffer()
        if buf:
            frame = _parse_whole(buf, len(buf), max_payload_len, state, strict, force_masking, refuse_masked)
            if frame is not None:
                sock.consume(frame[3])
                if frame[2] is not None:
                    state.reset()
                return frame[:3]
        elif sock.readable():
            # one read into this thread's scratch buffer; what the frame leaves goes back to the stream
            scratch = _scratch()
            n, err = sock.recv_into(scratch)
            if n is None:
                return _fail("failed to receive the first 2 bytes", err)
            frame = _parse_whole(scratch, n, max_payload_len, state, strict, force_masking, refuse_masked)
            end = 0 if frame is None else frame[3]
            if end < n:
                sock.unread(scratch[end:n])
            if frame is not None:
                if frame[2] is not None:
                    state.reset()
                return frame[:3]
    data, err, _ = sock.receive(2)
    if data is None:
        return _fail("failed to receive the first 2 bytes", err)

    fst = data[0]
    snd = data[1]
    if fst & 0x70:
        return None, None, "bad RSV1, RSV2, or RSV3 bits"
    opcode = fst & 0x0F
    if 0x3 <= opcode <= 0x7:
        return None, None, "reserved non-control frames"
    if opcode >= 0xB:
        return None, None, "reserved control frames"

    masked = snd & 0x80
    if log.enabled(log.DEBUG):
        log.error(log.DEBUG, "recv_frame: mask bit: %d" % (1 if masked else 0))
    if force_masking and not masked:
        return None, None, "frame unmasked"
    if refuse_masked and masked:
        return None, None, ERR_MASKED

    fin = fst & 0x80
    payload_len = snd & 0x7F
    key = None
    # The extended length and the masking key arrive in one receive.
    if payload_len == 126:
        head, err, _ = sock.receive(6 if masked else 2)
        if head is None:
            return _fail("failed to receive the 2 byte payload length", err)
        payload_len = (head[0] << 8) | head[1]
        if masked:
            key = head[2:]
    elif payload_len == 127:
        head, err, _ = sock.receive(12 if masked else 8)
        if head is None:
            return _fail("failed to receive the 8 byte payload length", err)
        if head[0] & 0x80:
            return None, None, "payload len too large"
        payload_len = int.from_bytes(head[:8], "big")
        if masked:
            key = head[8:]
    elif masked:
        key, err, _ = sock.receive(4)
        if key is None:
            return _fail("failed to read masking-len and payload", err)

    if opcode & 0x8:
        if payload_len > 125:
            return None, None, "too long payload for control frame"
        if not fin:
            return None, None, "fragmented control frame"

    if payload_len > max_payload_len:
        return None, None, "exceeding max payload len"

    if opcode & 0x8:
        if opcode == OP_CLOSE:
            return _recv_close(sock, payload_len, key, strict)
        payload, err = _recv_payload(sock, payload_len, key)
        if payload is None:
            return _fail("failed to read masking-len and payload", err)
        return payload, TYPES[opcode], None

    # A data frame: where does it stand in its message?
    if state is None:
        text = opcode == OP_TEXT
    else:
        if opcode == OP_CONTINUATION:
            if strict and state.opcode is None:
                return None, None, ERR_CONTINUATION
            text = state.opcode == OP_TEXT
        else:
            if strict and state.opcode is not None:
                return None, None, ERR_INTERLEAVED
            text = opcode == OP_TEXT
            state.received = 0
            state.decoder = _new_decoder() if text else None
        if strict and state.received + payload_len > state.max_message_len:
            return None, None, ERR_TOO_BIG
        state.received += payload_len
        state.opcode = None if fin else (state.opcode if opcode == OP_CONTINUATION else opcode)

    if not text:
        payload, err = _recv_payload(sock, payload_len, key)
        if payload is None:
            return _fail("failed to read masking-len and payload", err)
        return payload, TYPES[opcode], None if fin else "again"

    if state is None:
        payload, err = _recv_payload(sock, payload_len, key)
        if payload is None:
            return _fail("failed to read masking-len and payload", err)
        try:
            return payload.decode("utf-8"), TYPES[opcode], None if fin else "again"
        except UnicodeDecodeError:
            return None, None, ERR_BAD_TEXT

    decoder = state.decoder
    if decoder is None:  # a text continuation after a reset: decode from here on
        decoder = state.decoder = _new_decoder()
    if strict:
        text, err = _recv_text_streaming(sock, payload_len, key, decoder, bool(fin))
    else:
        payload, err = _recv_payload(sock, payload_len, key)
        if payload is None:
            return _fail("failed to read masking-len and payload", err)
        text = _decode(decoder, payload, bool(fin))
        err = None if text is not None else ERR_BAD_TEXT
    if text is None:
        state.reset()
        if err == ERR_BAD_TEXT:
            return None, None, err
        return _fail("failed to read masking-len and payload", err)
    if fin:
        state.decoder = None
    return text, TYPES[opcode], None if fin else "again"


def _parse_whole(buf, have: int, max_payload_len, state: MessageState, strict: bool, force_masking=True,
                 refuse_masked=False):
    """A final text or binary frame starting a message, if the whole of it is in `buf[:have]`.

    The frame must be masked by default (a server's reading);
    `force_masking=False` lets unmasked frames through too, and
    `refuse_masked=True` only those (a client's reading).  `buf` is a
    bytearray or a memoryview.  Returns what `recv_frame` returns for it plus
    the frame's length (`(data, typ, err, end)`; the caller consumes `end`
    bytes), or None for anything else: the general path then reads it from
    the socket's buffer.
    """
    if have < 2:
        return None
    fst = buf[0]
    snd = buf[1]
    masked = snd >= 0x80
    # FIN set, RSV clear, opcode text (1) or binary (2), the MASK bit the rules allow
    if (fst != 0x82 and fst != 0x81) or (refuse_masked if masked else force_masking):
        return None
    plen = snd & 0x7F
    head = 6 if masked else 2
    if plen == 126:
        head += 2
        if have < head:
            return None
        plen = (buf[2] << 8) | buf[3]
    elif plen == 127:
        return None
    end = head + plen
    if have < end or plen > max_payload_len or (strict and plen > state.max_message_len):
        return None
    if not plen:
        payload = b""
    elif not masked:
        payload = bytes(buf[head:end])
    elif type(buf) is memoryview:
        payload = apply_mask(buf[head:end], bytes(buf[head - 4:head]))
    elif plen >= _ZERO_COPY_MIN:
        with memoryview(buf) as view:
            payload = apply_mask(view[head:end], bytes(view[head - 4:head]))
    else:
        payload = apply_mask(buf[head:end], buf[head - 4:head])
    state.received = plen
    state.decoder = None
    if fst == 0x82:
        return payload, "binary", None, end
    try:
        return payload.decode("utf-8"), "text", None, end
    except UnicodeDecodeError:
        return None, None, ERR_BAD_TEXT, end


#: The pure-Python version, kept for the tests when the C one replaces it.
py_parse_whole = _parse_whole
try:  # the same in C (websocket/_speedups.c)
    from websocket._speedups import parse_whole as _parse_whole  # noqa: F811
except ImportError:
    pass


def _recv_payload(sock, n: int, key):
    """`n` payload bytes, unmasked: `(bytes, None)` or `(None, err)`."""
    if not n:
        return b"", None
    if isinstance(sock, Stream):
        payload, err = sock.read_exactly(n)  # a large payload as its bytearray: unmasked into bytes once
    else:
        payload, err, _ = sock.receive(n)
    if payload is None:
        return None, err
    if key is not None:
        return apply_mask(payload, key), None
    return payload if type(payload) is bytes else bytes(payload), None


def _decode(decoder, data: bytes, final: bool):
    """Feed `data` to an incremental UTF-8 decoder: the text, or None at the first impossible byte."""
    try:
        text = decoder.decode(data, final)
    except UnicodeDecodeError:
        return None
    if not final:
        # CPython accepts ED A0..BF (a UTF-16 surrogate's first two bytes)
        # and fails only at the third: refuse it as soon as it is seen.
        pending = decoder.getstate()[0]
        if len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0:
            return None
    return text


def _recv_text_streaming(sock, n: int, key, decoder, final: bool):
    """A text payload decoded while it arrives: `(str, None)`, `(None, ERR_BAD_TEXT)` or `(None, err)`.

    Reads what the socket has (at most the rest of the frame) and decodes
    it at once, so invalid UTF-8 is refused before the rest arrives.
    """
    receiveany = getattr(sock, "receiveany", None)
    pieces = []
    done = 0
    while done < n or not pieces:
        want = n - done
        if receiveany is None or want == 0 or sock.buffered() >= want:
            chunk, err, _ = sock.receive(want)
        else:
            chunk, err = receiveany(want)
        if chunk is None:
            return None, err
        if key is not None:
            shift = done & 3
            chunk = apply_mask(chunk, key[shift:] + key[:shift] if shift else key)
        done += len(chunk)
        text = _decode(decoder, chunk, final and done == n)
        if text is None:
            return None, ERR_BAD_TEXT
        pieces.append(text)
    return pieces[0] if len(pieces) == 1 else "".join(pieces), None


def _recv_close(sock, n: int, key, strict: bool):
    """The rest of a close frame: `(reason, "close", code)`, or `(None, None, err)`."""
    payload, err = _recv_payload(sock, n, key)
    if payload is None:
        return _fail("failed to read masking-len and payload", err)
    if not n:
        return "", "close", None
    if n < 2:
        return None, None, "close frame with a body must carry a 2-byte status code"
    code = (payload[0] << 8) | payload[1]
    if strict and not valid_close_code(code):
        return None, None, "invalid close code %d" % code
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        return None, None, ERR_BAD_REASON
    return reason, "close", code


# the 2-byte heads of unmasked final text/binary frames up to 125 bytes, by opcode: made once
_SHORT_HEADS = {op: [bytes((0x80 | op, n)) for n in range(126)] for op in (OP_TEXT, OP_BINARY)}
_pack_head16 = struct.Struct(">BBH").pack


def _frame_head(fin, opcode: int, payload_len: int, masking) -> bytes:
    """The first 2, 4 or 10 bytes of a frame (no masking key); ValueError beyond the 64-bit field."""
    if payload_len <= 125 and fin is True and not masking and (opcode == OP_BINARY or opcode == OP_TEXT):
        return _SHORT_HEADS[opcode][payload_len]
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

    Raises ValueError for a length the 64-bit field cannot carry
    (`send_frame` checks it first and returns an error instead).
    """
    head = _frame_head(fin, opcode, payload_len, masking)
    if masking:
        key = os.urandom(4)
        return head + key + apply_mask(payload, key)
    return head + payload


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


def send_frame(sock, fin, opcode: int, payload, max_payload_len, masking):
    """Build and send one frame with a single `sock.send`: `(bytes_sent, err)`."""
    if type(opcode) is not int or not 0 <= opcode <= 0xF:
        raise TypeError("bad argument #2 to 'send_frame' (opcode must be an integer from 0 to 15)")
    if type(payload) is not bytes:
        payload = payload_bytes(payload)
    payload_len = len(payload)
    if payload_len > max_payload_len:
        return None, "payload too big"
    if opcode & 0x8:
        if payload_len > 125:
            return None, "too much payload for control frame"
        if not fin:
            return None, "fragmented control frame"
    if isinstance(sock, Stream) and payload_len <= MAX_FRAME_LEN:
        # one send (sendmsg of head and payload when large: no copy of the payload)
        head = _frame_head(fin, opcode, payload_len, masking)
        if masking:
            key = os.urandom(4)
            head += key
            payload = apply_mask(payload, key)
        sent, err = sock.send_parts(head, payload)
    else:
        try:
            frame = build_frame(fin, opcode, payload_len, payload, masking)
        except ValueError as exc:
            return None, "failed to build frame: %s" % exc
        sent, err = sock.send(frame)
    if sent is None:
        return None, "failed to send frame: %s" % err
    return sent, None


class Channel:
    """The frame methods the server and client objects share (upstream's wb:* calls).

    Every `send_*` returns `(bytes, err)` and `recv_frame` returns
    `(data, typ, err)`.  After a fatal error (anything but a read timeout)
    every call answers "fatal error already happened".
    """

    __slots__ = ("sock", "max_recv_len", "max_send_len", "masking", "force_masking",
                 "fatal", "closed", "state")

    def __init__(self, sock, max_recv_len, max_send_len, masking: bool, force_masking: bool):
        self.sock = sock
        self.max_recv_len = max_recv_len
        self.max_send_len = max_send_len
        self.masking = masking
        self.force_masking = force_masking
        self.fatal = False
        self.closed = False
        self.state = MessageState()

    def set_timeout(self, ms):
        """Set the network timeout (milliseconds) for the following operations."""
        return self.sock.settimeout(ms)

    def recv_frame(self):
        """Receive one frame: `(data, typ, err)` (see `websocket.protocol.recv_frame`)."""
        if self.fatal:
            return None, None, "fatal error already happened"
        data, typ, err = _recv_frame(self.sock, self.max_recv_len, self.force_masking, self.state, False, False)
        if data is None and ": timeout" not in err:
            self.fatal = True
        return data, typ, err

    def send_frame(self, fin, opcode, payload=None):
        """Send one raw frame: `(bytes, err)`."""
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        sent, err = send_frame(self.sock, fin, opcode, payload, self.max_send_len, self.masking)
        if sent is None:
            self.fatal = True
        return sent, err

    def send_text(self, data):
        """Send `data` as one unfragmented text frame: `(bytes, err)`."""
        return self._send_final(OP_TEXT, data)

    def send_binary(self, data):
        """Send `data` as one unfragmented binary frame: `(bytes, err)`."""
        return self._send_final(OP_BINARY, data)

    def _send_final(self, opcode: int, data):
        """`send_frame(True, opcode, data)`."""
        return self.send_frame(True, opcode, data)

    def send_continue(self, data):
        """Send `data` as a final continuation frame: `(bytes, err)`."""
        return self.send_frame(True, OP_CONTINUATION, data)

    def send_ping(self, data=None):
        """Send a ping frame (does not wait for the pong): `(bytes, err)`."""
        return self.send_frame(True, OP_PING, data)

    def send_pong(self, data=None):
        """Send a pong frame: `(bytes, err)`."""
        return self.send_frame(True, OP_PONG, data)

    def send_close(self, code=None, msg=None):
        """Send a close frame with an optional status code and message: `(bytes, err)`."""
        payload = close_payload(code, msg)
        if payload is None:
            return None, "bad status code"
        return self.send_frame(True, OP_CLOSE, payload)


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
