"""The message level over the frame methods: strict RFC 6455 rules and the closing handshake.

`Endpoint` is what the server and client objects share beyond upstream:

* `recv_message()` -> `(data, typ, err)`: whole messages, fragments joined,
  pings answered, the closing handshake completed, every rule of RFC 6455
  enforced (a violation is answered with the close code it calls for).
* `strict` (an option of `new`): the same rules for `recv_frame`.
* the closing handshake of RFC 6455 section 7 (message level, and frame
  level with `strict`): once both close frames have crossed, the server
  closes TCP at once, and the client waits (bounded by its read timeout)
  for the server to close it first.  Without `strict` the frame level leaves
  the ending to the script, as upstream.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Dict, Optional

from cosocket.types import CountErr, FrameResult, Payload

from . import frames
from .connection import IDLE, frame_rules, read_frame, thread_scratch
from .deflate import CLOSE_TOO_BIG, InflateError, PerMessageDeflate
from .frames import InvalidPayload, TooBig
from .protocol import (CLOSE_INTERNAL_ERROR, CLOSE_NORMAL, ERR_TOO_BIG, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG,
                       OP_TEXT, Channel, MessageState, close_payload, payload_bytes, send_frame)

if TYPE_CHECKING:
    from .deflate import PreparedMessage

# The only frame-level error that leaves the stream in step: nothing of the frame was read yet.
_IDLE_TIMEOUT = "failed to receive the first 2 bytes: timeout"
#: What a receive answers when the heartbeat finds the peer silent (no frame within ping_timeout of a ping).
ERR_PING_TIMEOUT = "ping timeout"


class _Inflating:
    """The message state's inflate hook once permessage-deflate is agreed: the limits on inflated sizes.

    Each fragment inflates to at most the frame limit (`max_recv_len`,
    "exceeding max payload len"); with `whole` set (strict reading) the
    message inflates to at most `max_message_len` ("message too big").
    Both are enforced while inflating (close 1009); a stream that does not
    inflate is close 1007.
    """

    __slots__ = ("deflate", "frame_limit", "message_limit", "whole", "received")

    def __init__(self, deflate: PerMessageDeflate, frame_limit, message_limit):
        self.deflate = deflate
        self.frame_limit = frames.limit_of(frame_limit)
        self.message_limit = frames.limit_of(message_limit)
        self.whole = True
        self.received = 0

    def __call__(self, payload: bytes, fin: bool) -> bytes:
        limit = self.frame_limit
        too_big = "exceeding max payload len"
        if self.whole:
            rest = self.message_limit - self.received
            if rest < limit:
                limit, too_big = rest, ERR_TOO_BIG
        try:
            out = self.deflate.inflate(payload, fin, limit)
        except InflateError as exc:
            self.received = 0
            if exc.code == CLOSE_TOO_BIG:
                raise TooBig(too_big) from None
            raise InvalidPayload(exc.reason) from None
        self.received = 0 if fin else self.received + len(out)
        return out


class _Heartbeat:
    """A connection's heartbeat (only made when `ping_interval` is given): the interval and timeout in
    seconds, when the last frame arrived and when the unanswered ping went out (None: none is)."""

    __slots__ = ("interval", "timeout", "last_frame", "ping_sent")

    def __init__(self, interval: float, timeout: float) -> None:
        self.interval = interval
        self.timeout = timeout
        self.restart()

    def restart(self) -> None:
        """A new connection: its idle clock starts now, no ping out."""
        self.last_frame = time.monotonic()
        self.ping_sent: Optional[float] = None


class Endpoint(Channel):
    """A WebSocket endpoint: upstream's frame methods plus messages, strictness and the closing handshake.

    With permessage-deflate agreed (`use_deflate`), `deflate` is the
    connection's `websocket.deflate.PerMessageDeflate`, `extensions` the
    Sec-WebSocket-Extensions value agreed, `permessage_deflate` the agreed
    parameters; received compressed messages are inflated (`recv_frame`
    fragment by fragment, `recv_message` whole) and `send_text` /
    `send_binary` compress unless told `compress=False`.  `send_frame` keeps
    upstream's raw meaning: the payload goes out as given, RSV1 clear.
    """

    __slots__ = ("is_server", "strict", "pass_pings", "close_sent", "close_received", "ended",
                 "pieces", "message_type", "protocol", "deflate", "heartbeat", "_message_rules", "_plain_reads")
    protocol: Optional[str]
    deflate: Optional[PerMessageDeflate]
    pieces: Optional[list]
    message_type: Optional[str]
    heartbeat: Optional[_Heartbeat]

    def __init__(self, sock, max_recv_len, max_send_len, masking: bool, force_masking: bool, *,
                 is_server: bool, strict: bool = False, pass_pings: bool = False, max_message_len=None,
                 ping_interval=None, ping_timeout=None):
        super().__init__(sock, max_recv_len, max_send_len, masking, force_masking)
        self.state = MessageState(max_recv_len if max_message_len is None else max_message_len)
        self.is_server = is_server
        self.strict = strict
        self.pass_pings = pass_pings
        self.protocol = None
        # None: no heartbeat (the default, as upstream)
        self.heartbeat = None if ping_interval is None else _Heartbeat(ping_interval, ping_timeout)
        self._restart()

    def use_deflate(self, deflate: PerMessageDeflate, header: str) -> None:
        """Turn permessage-deflate on for this connection (after the handshake agreed `header`)."""
        deflate.header = header
        self.deflate = deflate
        self.state.inflate = _Inflating(deflate, self.max_recv_len, self.state.max_message_len)
        self._settle_reads()

    def _settle_reads(self) -> None:
        """Settle what every read gives the parser (after the options, and whenever deflate is turned on or off):
        `_rules` for recv_frame (strict or not, as `new` said), `_message_rules` for strict reads."""
        inflating = self.state.inflate is not None
        self._message_rules = frame_rules(self.force_masking, not self.is_server, inflating)
        self._rules = self._message_rules if self.strict else frame_rules(self.force_masking, False, inflating)
        self._plain_reads = not inflating and self.heartbeat is None  # recv_frame reads with no hook
        self._scratch = thread_scratch()  # (a client may connect in another thread than it was made in)

    @property
    def extensions(self) -> Optional[str]:
        """The Sec-WebSocket-Extensions value agreed (None: no extension)."""
        return None if self.deflate is None else self.deflate.header

    @property
    def permessage_deflate(self) -> Optional[Dict[str, Any]]:
        """The permessage-deflate parameters agreed (a dict), or None."""
        return None if self.deflate is None else self.deflate.agreement.as_dict()

    def _restart(self) -> None:
        """Forget the previous connection's progress (the client's connect calls it)."""
        self.deflate = None
        self.state.inflate = None
        self.fatal = False
        self.closed = False
        self.close_sent = False
        self.close_received = False
        self.ended = False
        self.pieces = None
        self.message_type = None
        self.state.reset()
        self._settle_reads()
        if self.heartbeat is not None:
            self.heartbeat.restart()

    # ------------------------------------------------------------ receiving
    def _next_frame(self, strict: bool):
        inflate = self.state.inflate
        if inflate is not None:
            inflate.whole = strict
        beat = self.heartbeat
        if beat is not None:
            return self._next_frame_with_heartbeat(strict, beat)
        return read_frame(self.sock, self._limit, self._message_rules if strict else self._rules, self.state, strict,
                          None, self._scratch)

    def _next_frame_with_heartbeat(self, strict: bool, beat: _Heartbeat):
        """`_next_frame`, pinging the peer every ping_interval of silence between frames.

        The waits are the stream's own (the worker's deadline timer): the read
        timeout still bounds the whole receive, and a peer that sends no frame
        within ping_timeout of a ping is told 1011 and the connection ended.
        """
        read_deadline = time.monotonic() + self._read_timeout()
        while True:
            now = time.monotonic()
            if beat.ping_sent is not None:
                due = beat.ping_sent + beat.timeout
                if due <= now:
                    return self._heartbeat_lost()
            else:
                due = beat.last_frame + beat.interval
                if due <= now:
                    sent, err = send_frame(self.sock, True, OP_PING, b"", self.max_send_len, self.masking)
                    if sent is None:
                        return None, None, err
                    beat.ping_sent = now
                    continue
            if read_deadline <= now:
                return None, None, "failed to receive the first 2 bytes: " + self.sock.read_timed_out()
            result = read_frame(self.sock, self._limit, self._message_rules if strict else self._rules, self.state,
                                strict, min(due, read_deadline) - now, self._scratch)
            if result is IDLE:
                continue
            if result[0] is not None:
                beat.last_frame = time.monotonic()
                beat.ping_sent = None
            return result

    def _heartbeat_lost(self):
        """The peer answered no ping: close 1011 (best effort) and end the connection at once."""
        if not self.close_sent:
            self._send_close_frame(CLOSE_INTERNAL_ERROR, "ping timeout")
        self.ended = True
        self.closed = True
        self.sock.abort()
        return None, None, ERR_PING_TIMEOUT

    def recv_frame(self) -> FrameResult:
        """Receive one frame: `(data, typ, err)` as upstream (see `websocket.protocol.recv_frame`).

        With `strict=True` given to `new`, a frame breaking an RFC 6455 rule is
        refused as `recv_message` refuses it (close frame with the rule's code,
        connection ended).  A close frame answering our own completes the
        closing handshake.
        """
        if self.fatal:
            return None, None, "fatal error already happened"
        if self.ended:
            return None, None, "closed"
        if self._plain_reads:
            frame = read_frame(self.sock, self._limit, self._rules, self.state, self.strict, None, self._scratch)
        else:
            frame = self._next_frame(self.strict)
        if frame[0] is None:
            self._failed(frame[2], self.strict)
        elif frame[1] == "close":
            self.close_received = True
            if self.close_sent and self.strict:  # without strict the script ends it, as upstream
                self._end()
        return frame

    def recv_message(self) -> FrameResult:
        """Receive one whole message: `(data, typ, err)`.

        `typ` is "text" (`data` a `str`) or "binary" (`bytes`); fragments are
        joined; pings are answered with pongs and pongs dropped (unless `new`
        was given `pass_pings=True`: then they come back as `(payload, "ping"
        | "pong", None)`).  A close frame is answered (echoing its code, 1000
        when it had none), the connection ended, and `(reason, "close", code)`
        returned.  A frame breaking an RFC 6455 rule is answered with a close
        frame carrying 1002, 1007 or 1009, the connection is ended and
        `(None, None, err)` names the rule.  A read timeout between frames
        returns `(None, None, "...: timeout")` and keeps the message so far.
        """
        if self.fatal:
            return None, None, "fatal error already happened"
        if self.ended:
            return None, None, "closed"
        while True:
            data, typ, err = self._next_frame(True)
            if data is None:
                self._failed(err, True)
                return None, None, err
            if typ == "ping" or typ == "pong":
                if self.pass_pings:
                    return data, typ, None
                if typ == "ping" and not self.close_sent:
                    sent, err = send_frame(self.sock, True, OP_PONG, data, self.max_send_len, self.masking)
                    if sent is None:
                        self.fatal = True
                        return None, None, err
                continue
            if typ == "close":
                self.close_received = True
                if not self.close_sent:
                    self._send_close_frame(CLOSE_NORMAL if err is None else err)
                self._end()
                return data, "close", err
            if typ != "continuation":
                self.message_type = typ
            pieces = self.pieces  # (None until a message comes in fragments)
            if err is None:  # the final frame
                if pieces is None:
                    return data, self.message_type, None
                self.pieces = None
                pieces.append(data)
                return ("" if self.message_type == "text" else b"").join(pieces), self.message_type, None
            if pieces is None:
                self.pieces = [data]
            else:
                pieces.append(data)

    # ------------------------------------------------------------ sending
    def send_text(self, data: Payload, compress: bool = True) -> CountErr:
        """Send `data` as one text message: `(bytes, err)`; compressed when permessage-deflate was
        agreed, unless `compress=False` (small or already-compressed data)."""
        if self.deflate is None or not compress:
            return self._send_final(OP_TEXT, data)
        return self._send_compressed(OP_TEXT, data)

    def send_binary(self, data: Payload, compress: bool = True) -> CountErr:
        """Send `data` as one binary message: `(bytes, err)`; compressed as `send_text` says."""
        if self.deflate is None or not compress:
            return self._send_final(OP_BINARY, data)
        return self._send_compressed(OP_BINARY, data)

    def _send_compressed(self, opcode: int, data):
        """One frame carrying the whole message compressed, RSV1 set: `(bytes, err)`."""
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        payload = data if type(data) is bytes else payload_bytes(data)
        if len(payload) > self.max_send_len:
            self.fatal = True  # as every send's refusal, upstream's rule
            return None, "payload too big"
        # the ignore: this is called only once deflate is agreed
        return self.send_deflated(opcode, self.deflate.compress(payload))  # type: ignore[union-attr]

    def send_prepared(self, message: PreparedMessage, compress: bool = True) -> CountErr:
        """Send a `websocket.deflate.PreparedMessage` (one message for many connections): `(bytes, err)`.

        A server sends the frame built once: compressed when its client agreed
        `server_no_context_takeover` (one compression for every such
        connection), plain when nothing was agreed; with context takeover the
        message is compressed for this connection.  A client masks, so it
        sends the message as `send_text`/`send_binary` would.
        """
        if self.fatal:
            return None, "fatal error already happened"
        if self.closed:
            return None, "already closed"
        payload = message.payload
        if len(payload) > self.max_send_len:
            self.fatal = True
            return None, "payload too big"
        deflate = self.deflate if compress else None
        if self.masking or (deflate is not None and not deflate.can_share(deflate.send_bits)):
            send = self.send_text if message.is_text else self.send_binary
            return send(payload, compress)
        return self.send_framed(message.frame(None if deflate is None else deflate.send_bits))

    def _failed(self, err: str, strict: bool) -> None:
        """After a failed read: a timeout between frames is harmless, anything else is fatal.

        In strict mode a refused frame is answered with its close code and the
        connection ended; a timeout inside a frame is fatal (the stream is out of step).
        """
        if err == _IDLE_TIMEOUT or (not strict and ": timeout" in err):
            return
        self.fatal = True
        if not strict:
            return
        code = self.state.refused
        if code is not None:
            self.pieces = None
            if not self.close_sent:
                self._send_close_frame(code)
            self._end()

    # -------------------------------------------------------------- closing
    def _send_close_frame(self, code: int, msg=None):
        """Send a close frame whatever the object's state: `(bytes, err)`."""
        self.close_sent = True
        return send_frame(self.sock, True, OP_CLOSE, close_payload(code, msg), self.max_send_len, self.masking)

    def send_close(self, code: Optional[int] = None, msg: Payload = None) -> CountErr:
        """Send a close frame with an optional status code and message: `(bytes, err)`.

        As upstream, this does not wait for the peer's close frame; when the
        peer's close was already received, the closing handshake is complete
        and the connection is ended.
        """
        payload = close_payload(code, msg)
        if payload is None:
            return None, "bad status code"
        sent, err = self.send_frame(True, OP_CLOSE, payload)
        if sent is not None:
            self.close_sent = True
            if self.close_received and self.strict:
                self._end()  # strict: complete RFC 6455's closing handshake (without it the script does, as upstream)
        return sent, err

    def _read_timeout(self) -> float:
        """The socket's read timeout in seconds: the bound of every wait for the peer while closing."""
        read_timeout = getattr(self.sock, "read_timeout", None)
        return 1.0 if read_timeout is None else read_timeout()

    def _wait_peer_close(self) -> None:
        """Read and drop frames until the peer's close frame, an error, or the read timeout passes."""
        deadline = time.monotonic() + self._read_timeout()
        rules = frame_rules(self.force_masking, False, self.state.inflate is not None)
        while not self.close_received and time.monotonic() < deadline:
            data, typ, err = read_frame(self.sock, self._limit, rules, self.state, False, None, self._scratch)
            if data is None:
                return
            if typ == "close":
                self.close_received = True

    def _end(self) -> None:
        """End the connection after the closing handshake (or a refused frame), as RFC 6455 section 7 says.

        The server closes TCP at once; the client lets the server close it
        first, waiting at most its read timeout, then closes its side.
        """
        if self.ended:
            return
        self.ended = True
        self.closed = True
        sock = self.sock
        if self.is_server:
            sock.abort()  # a request socket refuses close(); nginx would close the connection here
            return
        deadline = time.monotonic() + self._read_timeout()
        while time.monotonic() < deadline:
            data, _ = sock.receiveany(65536)
            if data is None:
                break
        sock.close()
