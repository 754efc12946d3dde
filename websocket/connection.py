"""Frames over a cosocket: the only module in websocket/ that reads or writes a socket.

It drives `websocket.frames` (the parser, the heads, masking) over the
stream API of `cosocket.stream` (`rbuf`/`consume`, `recv_into` +
`unread`, `fill`, `read_exactly`, `send_parts`; the direct path of
`websocket.direct` on the descriptor when `direct_read_fd` / `direct_writer`
allow it), and keeps the message state
between frames (`MessageState`: fragment sequencing, the UTF-8 decoder);
`Channel` holds upstream's frame methods (wb:recv_frame, wb:send_*) that the
server and client objects share.  Anything else with the cosocket's `receive(n)` and `send(data)` calls works
too (byte by byte through them).  Refusals are `frames.FrameError`s turned
into error strings here, their close code kept in `MessageState.refused`.
"""
from __future__ import annotations

import codecs
import errno
import os
import threading
import weakref
from typing import Any, Optional

from cosocket.types import CountErr, FrameResult, Payload

from cosocket import log
from cosocket.stream import Stream

from . import frames
from .direct import recv_parse, send_frame as send_direct
from .frames import (MASK_REFUSED, MASK_REQUIRED, RSV1_ALLOWED, MAX_FRAME_LEN, TYPES, FrameError, InvalidPayload,
                     Opcode, ProtocolError, SHORT_HEADS, TooBig, close_payload, frame_head, payload_bytes, stage_error,
                     valid_close_code)

ERR_BAD_TEXT = "invalid UTF-8 text payload"
ERR_BAD_REASON = "invalid UTF-8 close reason"
ERR_CONTINUATION = "unexpected continuation frame"
ERR_INTERLEAVED = "new data frame inside a fragmented message"
ERR_TOO_BIG = "message too big"
ERR_CLOSE_BODY = "close frame with a body must carry a 2-byte status code"

_new_decoder = codecs.getincrementaldecoder("utf-8")

_EAGAIN = -errno.EAGAIN  # what a direct read answers when nothing has arrived

# A read on an empty buffer goes into the calling thread's scratch buffer: a frame that has
# arrived whole is unmasked straight out of it (one recv(), one copy); only bytes it does not
# consume are copied into the stream's buffer
_SCRATCH_SIZE = 65536


class _Scratch(threading.local):
    """Each thread's scratch buffer (`buf`), made on the thread's first read."""

    def __init__(self) -> None:
        self.buf = bytearray(_SCRATCH_SIZE)


_scratch = _Scratch()


def thread_scratch() -> bytearray:
    """The calling thread's scratch buffer, for a reader that keeps it (a connection's greenlets all run
    in the thread its socket was made in)."""
    return _scratch.buf


class MessageState:
    """What the receiver remembers between the frames of one message.

    `opcode` is 1 (text) or 2 (binary) while a fragmented message is in
    progress (None between messages); `received` counts its payload bytes
    so far; `decoder` is the incremental UTF-8 decoder of a text message,
    which keeps a character split across fragments until its last bytes
    arrive.  `max_message_len` bounds `received` in strict mode.  `refused`
    is the close code answering the last refused frame (None after a
    network failure).

    The extension hook (permessage-deflate): with `inflate` set to a callable
    `inflate(payload: bytes, fin: bool) -> bytes`, RSV1 is accepted on the
    first frame of a data message, and every payload of such a message goes
    through `inflate` before it is decoded or returned; it may raise a
    `frames.FrameError`.  `compressed` is True while such a message is in
    progress.
    """

    __slots__ = ("opcode", "decoder", "received", "max_message_len", "refused", "inflate", "compressed")

    def __init__(self, max_message_len=MAX_FRAME_LEN) -> None:
        self.opcode = None
        self.decoder = None
        self.received = 0
        self.max_message_len = max_message_len
        self.refused = None
        self.inflate: Any = None
        self.compressed = False

    @property
    def in_text(self) -> bool:
        """True while a fragmented text message is in progress."""
        return self.opcode == 1

    def reset(self) -> None:
        """Forget any message in progress (a new connection)."""
        self.opcode = None
        self.decoder = None
        self.received = 0
        self.compressed = False


# The message state of sockets read by bare recv_frame calls (no `state=`), so that text split across
# fragments decodes whole there too.
_bare_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def socket_state(sock) -> Optional[MessageState]:
    """The message state kept for `sock` by bare recv_frame calls (None: it takes no weak reference)."""
    try:
        state = _bare_states.get(sock)
        if state is None:
            state = _bare_states[sock] = MessageState()
        return state
    except TypeError:
        return None


def _fail(what: str, err) -> tuple:
    return None, None, "%s: %s" % (what, err if err is not None else "unknown")


def _read_head(sock, limit: int, rules: int):
    """The next frame's parse result (a tuple) from a Stream's buffer, or `(None, None, err)`."""
    if sock.is_reading():  # the buffered bytes are another reader's: receive(2) would say busy
        return _fail("failed to receive the first 2 bytes", "socket busy reading")
    buf = sock.rbuf
    while True:
        frame = frames.parse(buf, len(buf), limit, rules)
        if type(frame) is tuple:
            sock.consume(frame[2])
            return frame
        if frame is not None:
            raise frames.violation(frame)
        err = sock.fill()
        if err is not None:
            what = stage_error(buf, len(buf))
            sock.consume(len(buf))  # what a failed read leaves of the frame is dropped, as receive(n) does
            return _fail(what, err)


def _receive_head(sock, limit: int, rules: int):
    """`_read_head` for any socket with the cosocket's `receive(n)`."""
    data, err, _ = sock.receive(2)
    if data is None:
        return _fail("failed to receive the first 2 bytes", err)
    while True:
        frame = frames.parse(data, len(data), limit, rules)
        if type(frame) is tuple:
            return frame
        if frame is not None:
            raise frames.violation(frame)
        plen = data[1] & 0x7F
        need = (4 if plen == 126 else 10 if plen == 127 else 2) + (4 if data[1] & 0x80 else 0)
        more, err, _ = sock.receive(need - len(data))
        if more is None:
            return _fail(stage_error(data, len(data)), err)
        data = bytes(data) + more


def _wait_and_parse(sock, scratch, limit: int, rules: int, wait, n: int):
    """The direct read gave no bytes (`n`: 0 or -errno): wait and read again until a read gives bytes
    -> `(count, frame)` as recv_parse, or `(None, answer)` with the answer recv_frame returns."""
    while n <= 0:
        if n != _EAGAIN:
            return None, _fail("failed to receive the first 2 bytes", sock.direct_read_failed(-n))
        sock.drained = True  # nothing there: the stream waits before handing the descriptor out again
        fd = sock.direct_read_fd(wait)
        if type(fd) is str:
            return None, IDLE if fd == "idle" else _fail("failed to receive the first 2 bytes", fd)
        if fd < 0:  # the direct path closed meanwhile: the general path reads
            n, err = sock.recv_into(scratch, wait)
            if n is None:
                return None, IDLE if err == "idle" else _fail("failed to receive the first 2 bytes", err)
            return n, frames.parse(scratch, n, limit, rules)
        n, frame = recv_parse(fd, scratch, limit, rules)
    return n, frame


#: What recv_frame answers when its `wait` passed with no frame begun (the stream stays in step).
IDLE = (None, None, "idle")


def frame_rules(force_masking: bool, refuse_masked: bool, inflating: bool) -> int:
    """The `frames.parse` rules of a reader: masking required or refused, RSV1 allowed (deflate agreed)."""
    return (MASK_REQUIRED if force_masking else 0) | (MASK_REFUSED if refuse_masked else 0) \
        | (RSV1_ALLOWED if inflating else 0)


def recv_frame(sock, max_payload_len, force_masking, state: Optional[MessageState], strict: bool,
               refuse_masked: bool, wait=None):
    """Receive one frame: `(data, typ, err)` as `websocket.protocol.recv_frame` documents it.

    `wait` (seconds, a cosocket only): when no byte of a frame has arrived,
    wait at most that long for one, then answer `IDLE` (no error logged).
    """
    if state is None:
        state = socket_state(sock)
    rules = frame_rules(force_masking, refuse_masked, state is not None and state.inflate is not None)
    return read_frame(sock, frames.limit_of(max_payload_len), rules, state, strict, wait)


def read_frame(sock, limit: int, rules: int, state: Optional[MessageState], strict: bool, wait=None,
               scratch: Optional[bytearray] = None):
    """`recv_frame` with the payload limit (`frames.limit_of`) and the parse rules (`frame_rules`) settled
    by the caller, once per connection, and the thread's scratch buffer when it keeps it (`thread_scratch`)."""
    try:
        if not isinstance(sock, Stream):
            frame = _receive_head(sock, limit, rules)
            if frame[0] is None:
                return frame
            fst, payload, _, plen, key = frame
        elif sock.rbuf:
            frame = _read_head(sock, limit, rules)
            if frame[0] is None:
                return frame
            fst, payload, _, plen, key = frame
        else:
            # one read into this thread's scratch buffer, parsed there: a frame that came whole is
            # copied out once (unmasked); what it leaves goes back to the stream's buffer
            if scratch is None:
                scratch = _scratch.buf
            fd = sock.direct_read_fd(wait)
            if type(fd) is str:  # (waiting for the peer's bytes failed)
                return IDLE if fd == "idle" else _fail("failed to receive the first 2 bytes", fd)
            if fd >= 0:
                # the direct path: recv() and parse in one call on the stream's descriptor
                n, frame = recv_parse(fd, scratch, limit, rules)
                if n <= 0:
                    n, frame = _wait_and_parse(sock, scratch, limit, rules, wait, n)
                    if n is None:
                        return frame
                sock.drained = n < _SCRATCH_SIZE
            else:
                n, err = sock.recv_into(scratch, wait)
                if n is None:
                    if err == "idle":
                        return IDLE
                    return _fail("failed to receive the first 2 bytes", err)
                frame = frames.parse(scratch, n, limit, rules)
            try:
                fst, payload, end, plen, key = frame
            except TypeError:  # no tuple: None (the head is not all here) or a refusal's number
                if frame is not None:
                    raise frames.violation(frame) from None
                sock.unread(memoryview(scratch)[:n])
                frame = _read_head(sock, limit, rules)
                if frame[0] is None:
                    return frame
                fst, payload, _, plen, key = frame
            else:
                if end < n:
                    sock.unread(memoryview(scratch)[end:n])
        if log.debug_enabled:
            log.error(log.DEBUG, "recv_frame: mask bit: %d" % (0 if key is None else 1))
        if payload is not None and (fst == 0x82 or fst == 0x81) and state is not None and state.opcode is None \
                and not (strict and plen > state.max_message_len):
            # the common case: a whole message in one frame that has arrived whole (between messages,
            # the decoder is None and compressed False)
            state.refused = None
            state.received = plen
            if fst == 0x82:
                return payload, "binary", None
            try:
                return payload.decode("utf-8"), "text", None
            except UnicodeDecodeError:
                raise InvalidPayload(ERR_BAD_TEXT) from None
        opcode = fst & 0x0F
        fin = fst & 0x80
        if state is not None:
            state.refused = None
            if fst & 0x40 and (opcode & 0x8 or opcode == 0):  # RSV1 marks only a data message's first frame
                raise ProtocolError("bad RSV1, RSV2, or RSV3 bits")
        if opcode & 0x8:
            if payload is None:
                payload, err = _recv_payload(sock, plen, key)
                if payload is None:
                    return _fail("failed to read masking-len and payload", err)
            if opcode == 0x8:
                return _close_frame(payload, strict)
            return payload, TYPES[opcode], None

        # A data frame: where does it stand in its message?
        if state is None:
            text = opcode == 1
        else:
            if opcode == 0:
                if strict and state.opcode is None:
                    raise ProtocolError(ERR_CONTINUATION)
                text = state.opcode == 1
            else:
                if strict and state.opcode is not None:
                    raise ProtocolError(ERR_INTERLEAVED)
                text = opcode == 1
                state.received = 0
                state.decoder = None
                state.compressed = fst & 0x40 != 0
            if strict and state.received + plen > state.max_message_len and not state.compressed:
                raise TooBig(ERR_TOO_BIG)  # (a compressed message's limit is on its inflated size: the hook's)
            state.received += plen
            state.opcode = None if fin else (state.opcode if opcode == 0 else opcode)
            if state.compressed:
                if payload is None:
                    payload, err = _recv_payload(sock, plen, key)
                    if payload is None:
                        state.reset()
                        return _fail("failed to read masking-len and payload", err)
                payload = state.inflate(payload, bool(fin))
                if fin:
                    state.compressed = False

        if not text:
            if payload is None:
                payload, err = _recv_payload(sock, plen, key)
                if payload is None:
                    return _fail("failed to read masking-len and payload", err)
            return payload, TYPES[opcode], None if fin else "again"

        if state is None:
            if payload is None:
                payload, err = _recv_payload(sock, plen, key)
                if payload is None:
                    return _fail("failed to read masking-len and payload", err)
            try:
                return payload.decode("utf-8"), TYPES[opcode], None if fin else "again"
            except UnicodeDecodeError:
                raise InvalidPayload(ERR_BAD_TEXT) from None

        decoder = state.decoder
        if decoder is None:
            if fin and payload is not None and opcode:  # a whole text message in one frame
                try:
                    return payload.decode("utf-8"), "text", None
                except UnicodeDecodeError:
                    raise InvalidPayload(ERR_BAD_TEXT) from None
            decoder = state.decoder = _new_decoder()
        if payload is not None:
            text = _decode(decoder, payload, bool(fin))
        elif strict:
            text, err = _recv_text_streaming(sock, plen, key, decoder, bool(fin))
            if err is not None:
                state.reset()
                return _fail("failed to read masking-len and payload", err)
        else:
            payload, err = _recv_payload(sock, plen, key)
            if payload is None:
                state.reset()
                return _fail("failed to read masking-len and payload", err)
            text = _decode(decoder, payload, bool(fin))
        if text is None:
            raise InvalidPayload(ERR_BAD_TEXT)
        if fin:
            state.decoder = None
        return text, TYPES[opcode], None if fin else "again"
    except FrameError as exc:
        if state is not None:
            state.reset()  # a refused frame ends any message in progress
            state.refused = exc.close_code
        return None, None, str(exc)


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
        return frames.apply_mask(payload, key), None
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
    """A text payload decoded while it arrives: `(str, None)`, or `(None, err)` for a read failure.

    Reads what the socket has (at most the rest of the frame) and decodes
    it at once, so invalid UTF-8 is refused (InvalidPayload) before the rest arrives.
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
            chunk = frames.apply_mask(chunk, key[shift:] + key[:shift] if shift else key)
        done += len(chunk)
        text = _decode(decoder, chunk, final and done == n)
        if text is None:
            raise InvalidPayload(ERR_BAD_TEXT)
        pieces.append(text)
    return pieces[0] if len(pieces) == 1 else "".join(pieces), None


def _close_frame(payload: bytes, strict: bool):
    """A close frame's `(reason, "close", code)`."""
    if not payload:
        return "", "close", None
    if len(payload) < 2:
        raise ProtocolError(ERR_CLOSE_BODY)
    code = (payload[0] << 8) | payload[1]
    if strict and not valid_close_code(code):
        raise ProtocolError("invalid close code %d" % code)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPayload(ERR_BAD_REASON) from None
    return reason, "close", code


def _send(sock, fin, opcode: int, payload: bytes, masking):
    """Send one frame whose checks are done: `(bytes_sent, err)` with the socket's own error."""
    n = len(payload)
    if n < 126 and fin is True and not masking and (opcode == 2 or opcode == 1):
        head = SHORT_HEADS[opcode][n]
    else:
        try:
            head = frame_head(fin, opcode, n, masking)
        except ValueError as exc:
            return None, "failed to build frame: %s" % exc
    if masking:
        key = os.urandom(4)
        head += key
        payload = frames.apply_mask(payload, key)
    if isinstance(sock, Stream):
        # one send (sendmsg of head and payload when large: no copy of the payload)
        return sock.send_parts(head, payload)
    return sock.send(head + payload)


def send_framed(sock, data: bytes):
    """Send bytes that are already whole frames (one frame built once for many connections): `(n, err)`."""
    if isinstance(sock, Stream):
        return sock.send_parts(data)
    return sock.send(data)


def send_frame(sock, fin, opcode: int, payload, max_payload_len, masking):
    """Build and send one frame with a single `sock.send`: `(bytes_sent, err)`."""
    if not isinstance(opcode, int) or isinstance(opcode, bool) or not 0 <= opcode <= 0xF:
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
    sent, err = _send(sock, fin, opcode, payload, masking)
    if sent is None and err.startswith("failed to build frame"):
        return None, err
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
                 "fatal", "closed", "state", "_plain_frames", "_limit", "_rules", "_scratch")

    def __init__(self, sock, max_recv_len, max_send_len, masking: bool, force_masking: bool):
        self.sock = sock
        self.max_recv_len = max_recv_len
        self.max_send_len = max_send_len
        self.masking = masking
        self.force_masking = force_masking
        self.fatal = False
        self.closed = False
        self.state = MessageState()
        self._plain_frames = not masking and isinstance(sock, Stream)  # unmasked frames straight to the stream
        # what each read gives the parser, settled once
        self._limit = frames.limit_of(max_recv_len)
        self._rules = frame_rules(force_masking, False, False)
        self._scratch = thread_scratch()

    def set_timeout(self, ms: Optional[float]) -> None:
        """Set the network timeout (milliseconds) for the following operations."""
        return self.sock.settimeout(ms)

    def recv_frame(self) -> FrameResult:
        """Receive one frame: `(data, typ, err)` (see `websocket.protocol.recv_frame`)."""
        if self.fatal:
            return None, None, "fatal error already happened"
        data, typ, err = read_frame(self.sock, self._limit, self._rules, self.state, False, None, self._scratch)
        if data is None and ": timeout" not in err:
            self.fatal = True
        return data, typ, err

    def send_frame(self, fin: bool, opcode: int, payload: Payload = None) -> CountErr:
        """Send one raw frame: `(bytes, err)`."""
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        sent, err = send_frame(self.sock, fin, opcode, payload, self.max_send_len, self.masking)
        if sent is None:
            self.fatal = True
        return sent, err

    def send_framed(self, data: bytes) -> CountErr:
        """Send bytes that already are whole frames (built once, e.g. with `build_frame`, for many
        connections): `(bytes, err)`, with send_frame's errors."""
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        sent, err = send_framed(self.sock, data)
        if sent is None:
            self.fatal = True
            return None, "failed to send frame: %s" % err
        return sent, None

    def send_text(self, data: Payload) -> CountErr:
        """Send `data` as one unfragmented text frame: `(bytes, err)`."""
        return self._send_final(Opcode.TEXT, data)

    def send_binary(self, data: Payload) -> CountErr:
        """Send `data` as one unfragmented binary frame: `(bytes, err)`."""
        return self._send_final(Opcode.BINARY, data)

    def _send_final(self, opcode: int, data):
        """`send_frame(True, opcode, data)` for a data frame (its checks reduced to the one that applies)."""
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        payload = data if type(data) is bytes else payload_bytes(data)
        n = len(payload)
        if n > self.max_send_len:
            self.fatal = True
            return None, "payload too big"
        if self._plain_frames:
            sock = self.sock
            raw = sock.direct_writer
            if raw is not None:  # the direct path: head and payload sent in one call on the stream's descriptor
                sent = send_direct(raw.fileno(), 0x80 | opcode, payload)
                total = n + (2 if n < 126 else 4 if n < 65536 else 10)
                if sent == total:
                    return sent, None
                if sent >= 0:
                    sent, err = sock.send_rest(frame_head(True, opcode, n, False), payload, sent)
                else:
                    sent, err = None, sock.direct_send_failed(-sent)
            elif n < 126:
                sent, err = sock.send_parts(SHORT_HEADS[opcode][n], payload)
            else:
                sent, err = _send(sock, True, opcode, payload, False)
        else:
            sent, err = _send(self.sock, True, opcode, payload, self.masking)
        if sent is None:
            self.fatal = True
            return None, err if err.startswith("failed to build frame") else "failed to send frame: %s" % err
        return sent, None

    def send_deflated(self, opcode: int, payload: bytes) -> CountErr:
        """Send one final data frame with RSV1 set whose `payload` is a whole compressed message
        (permessage-deflate; the caller compressed it and checked its size): `(bytes, err)`."""
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        sent, err = _send(self.sock, True, frames.RSV1 | opcode, payload, self.masking)
        if sent is None:
            self.fatal = True
            return None, err if err.startswith("failed to build frame") else "failed to send frame: %s" % err
        return sent, None

    def send_continue(self, data: Payload) -> CountErr:
        """Send `data` as a final continuation frame: `(bytes, err)`."""
        return self.send_frame(True, Opcode.CONTINUATION, data)

    def send_ping(self, data: Payload = None) -> CountErr:
        """Send a ping frame (does not wait for the pong): `(bytes, err)`."""
        return self.send_frame(True, Opcode.PING, data)

    def send_pong(self, data: Payload = None) -> CountErr:
        """Send a pong frame: `(bytes, err)`."""
        return self.send_frame(True, Opcode.PONG, data)

    def send_close(self, code: Optional[int] = None, msg: Payload = None) -> CountErr:
        """Send a close frame with an optional status code and message: `(bytes, err)`."""
        payload = close_payload(code, msg)
        if payload is None:
            return None, "bad status code"
        return self.send_frame(True, Opcode.CLOSE, payload)
