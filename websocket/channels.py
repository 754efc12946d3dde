"""Channels: one published message delivered to every subscriber, on every worker of the server.

    from websocket import channels

    ok, err = channels.publish("room", "hello")          # anywhere: handler, timer, plain gevent program
    sub, err = channels.subscribe("room")                 # in a handler
    data, err = sub.receive()                             # "timeout" after sub.settimeout(ms) (60 s)
    sub.unsubscribe()
    att, err = channels.attach(wb, "room")                # the worker writes every message to wb as a frame
    att.detach()                                          # or just let the connection end

A `str` is published as a text message, bytes as a binary one; subscribers
get the same type back and attached WebSockets get a text or binary frame.
In a server the backend is the `channels` directive of the conf (the
embedded broker, or Redis); in a plain gevent program call `configure()`
first.

Delivery: in the order each publisher published, once to every subscriber
while the backend is up.  Each subscription has a bounded queue (bytes,
`queue`, default `channels_queue_size`): on overflow "drop_oldest" drops the
oldest messages and counts them (`sub.dropped`), "close" ends the
subscription (an attached WebSocket is closed with `close_code`, 1013 by
default, or 1008).

History: every message gets an increasing offset in its channel (`offset`
attributes).  `subscribe(..., since=offset, epoch=epoch)` first delivers
what was published after `offset`; when the history no longer covers it, or
the epoch is not the backend's current one, `sub.recovered` is False and
`sub.gap` says why ("history no longer covers offset N", "new epoch").
"""
from __future__ import annotations

import collections
import re
import time
import weakref
from typing import Any, Dict, List, Optional, Tuple, Union

import gevent
from gevent.event import Event

from cosocket import brokerwire as wire
from cosocket import runtime

from .deflate import PreparedMessage
from .fanout import Outbox
from .protocol import OP_BINARY, OP_TEXT, build_frame

__all__ = ["configure", "publish", "subscribe", "attach", "detach", "send", "stats", "Subscription",
           "Attachment"]

#: Channel names: 1 to 200 of letters, digits and - _ . : @ / (a namespace may be written "ns:name").
NAME_RE = re.compile(r"[A-Za-z0-9_.:@/\-]{1,200}\Z")
DEFAULT_TIMEOUT_MS = 60000
DEFAULT_MESSAGE_MAX = 65536
DEFAULT_QUEUE = 262144
_POLICIES = ("drop_oldest", "close")


class _Config:
    backend: Any = None  # a BrokerLink or a RedisLink once configured
    message_max = DEFAULT_MESSAGE_MAX
    queue_size = DEFAULT_QUEUE
    error = "channels are not configured (no \"channels\" directive and no channels.configure() call)"


_config = _Config()


class _Local:
    """This process's subscribers of one channel."""

    __slots__ = ("subs", "atts", "joined")

    def __init__(self) -> None:
        self.subs: List["Subscription"] = []
        self.atts: List["Attachment"] = []
        self.joined = Event()  # set once the backend confirmed this process's subscription


_local: Dict[bytes, _Local] = {}
_outboxes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # wb -> Outbox
_sweeper: Optional[gevent.Greenlet] = None


# ---------------------------------------------------------------------------
# configuration

def configure(url: str = "embedded", *, socket: Optional[str] = None, message_max: int = DEFAULT_MESSAGE_MAX,
              queue_size: int = DEFAULT_QUEUE, history: int = 0, history_time: int = 0, sharded: bool = False,
              timeout: int = 5000) -> Tuple[Optional[int], Optional[str]]:
    """Choose the backend of this process: `(ok, err)`.

    `url`: a Redis URL (redis://[user:password@]host[:port][/db], rediss://
    for TLS, redis+unix:///path.sock?db=N&password=P), with `history` the
    messages each channel keeps (`history_time`: for at most that many
    ms) and `sharded` for Redis 7 sharded pub/sub;
    or "embedded" with `socket=` the path of a server's broker socket
    (its `logs/channels.sock`), also written "unix:/path".  `timeout`: ms
    for connecting to and answers from the backend.  A server's workers are
    configured from the conf's `channels*` directives and need no call.
    """
    if _config.backend is not None:
        return None, "channels already configured"
    if url.startswith("unix:"):
        socket = url[5:]
        url = "embedded"
    if url.startswith(("redis://", "rediss://", "redis+unix://")):
        from .channelredis import RedisLink
        try:
            _config.backend = RedisLink(url, _deliver, _reset, lambda: list(_local), history, sharded, timeout,
                                        history_time)
        except ValueError as exc:
            return None, "bad redis URL: %s" % exc
    elif url != "embedded":
        return None, "unsupported channels backend: %s" % url
    elif not socket:
        return None, "the embedded backend needs the broker's socket path"
    else:
        from .brokerlink import BrokerLink
        _config.backend = BrokerLink(socket, _deliver, _reset, lambda: list(_local))
    _config.message_max = message_max
    _config.queue_size = queue_size
    return 1, None


def _backend():
    backend = _config.backend
    if backend is None:
        main_conf = runtime.worker.main_conf
        cc = main_conf.http.channels if main_conf is not None else None
        if cc is None:
            return None
        ok, err = configure(cc.backend, socket=cc.socket, message_max=cc.message_max, queue_size=cc.queue_size,
                            history=cc.history_messages, history_time=cc.history_time, sharded=cc.sharded)
        if not ok:
            _config.error = err
        backend = _config.backend
    return backend


def _check_name(channel) -> Optional[str]:
    if not isinstance(channel, str):
        return "bad channel name: a string is expected, got %s" % type(channel).__name__
    if not NAME_RE.match(channel):
        return "invalid channel name %r: 1 to 200 letters, digits or - _ . : @ /" % channel[:64]
    return None


# ---------------------------------------------------------------------------
# publish

def publish(channel: str, data: Union[str, bytes]) -> Tuple[Optional[int], Optional[str]]:
    """Publish `data` (str: text, bytes: binary) to `channel`: `(ok, err)`.

    `ok` is 1 once the backend has the message.  Errors: a bad channel name
    or data type, "message too big (N > M bytes)", the backend unavailable.
    """
    err = _check_name(channel)
    if err is not None:
        return None, err
    if isinstance(data, str):
        kind = wire.TEXT
        try:
            payload = data.encode("utf-8")
        except UnicodeEncodeError:
            return None, "invalid text message: not encodable as UTF-8"
    elif isinstance(data, (bytes, bytearray, memoryview)):
        kind = wire.BINARY
        payload = bytes(data)
    else:
        return None, "bad message: str or bytes expected, got %s" % type(data).__name__
    backend = _backend()
    if backend is None:
        return None, _config.error
    if len(payload) > _config.message_max:
        return None, "message too big (%d > %d bytes)" % (len(payload), _config.message_max)
    err = backend.publish(channel.encode("ascii"), kind, payload)
    if err is not None:
        return None, err
    return 1, None


# ---------------------------------------------------------------------------
# delivery (called by the backend's reader)

def _deliver(name: bytes, kind: int, offset: int, data: bytes) -> None:
    local = _local.get(name)
    if local is None:
        return
    message = None
    for att in local.atts:
        if att.pending is not None:
            att.pending.append((kind, offset, data))
            continue
        if offset <= att.seen:
            continue
        att.seen = offset
        if message is None:
            message = _prepared(kind, data)
        att.outbox.write(message.frame(att.window_bits), att)
    for sub in local.subs:
        sub._push(kind, offset, data)


def _prepared(kind: int, data: bytes) -> PreparedMessage:
    """A message's frames for every attached connection of this worker: built once, compressed once per window."""
    return PreparedMessage(data.decode("utf-8") if kind == wire.TEXT else data)


def _frame(kind: int, data: bytes) -> bytes:
    """The plain frame of one message."""
    return build_frame(True, OP_TEXT if kind == wire.TEXT else OP_BINARY, len(data), data, False)


def _window_bits(wb):
    """The window of the compressed frames `wb` takes as they are built once (server_no_context_takeover
    agreed), or None: plain frames (no compression agreed, or context takeover: each connection's
    compressor would need the message itself)."""
    deflate = getattr(wb, "deflate", None)
    if deflate is None or getattr(wb, "masking", False) or not deflate.can_share(deflate.send_bits):
        return None
    return deflate.send_bits


def _reset(epoch: str) -> None:
    """The backend started again (a new epoch): offsets start again, what was published meanwhile is lost."""
    for local in _local.values():
        for item in local.subs + local.atts:
            item.epoch = epoch
            item.seen = 0
            item.recovered = False
            item.gap = "new epoch"


def _join(name: bytes, item, attach: bool) -> Optional[str]:
    found = _local.get(name)
    first = found is None
    local = _local[name] = _Local() if found is None else found
    # copy on write: a delivery going through the old list is not disturbed
    if attach:
        local.atts = local.atts + [item]
    else:
        local.subs = local.subs + [item]
    if first:
        err = _config.backend.subscribe(name)
        local.joined.set()
        if err is not None:
            _leave(name, item, attach)
            return err
    else:
        local.joined.wait(DEFAULT_TIMEOUT_MS / 1000.0)  # another greenlet's subscription is on its way
    return None


def _leave(name: bytes, item, attach: bool) -> None:
    local = _local.get(name)
    if local is None:
        return
    # copy on write (see _join)
    if attach:
        if item not in local.atts:
            return
        local.atts = [other for other in local.atts if other is not item]
    else:
        if item not in local.subs:
            return
        local.subs = [other for other in local.subs if other is not item]
    if not local.subs and not local.atts:
        del _local[name]
        _config.backend.unsubscribe(name)


def _recover(item, name: bytes, since, epoch, timeout_s: float) -> Optional[str]:
    """Fill `item` with what was published after `since` (item.pending buffers live messages meanwhile)."""
    backend = _config.backend
    item.epoch = backend.epoch
    if since is None:
        item.pending = None
        return None
    if epoch is not None and epoch != backend.epoch:
        item.recovered = False
        item.gap = "new epoch"
        item.flush_pending()
        return None
    status, last, items, err = backend.history(name, since, timeout_s)
    if err is not None:
        item.pending = None
        return err
    if status != 0:
        item.recovered = False
        item.gap = "history no longer covers offset %d" % since
    else:
        item.seen = since
        for kind, offset, data in items:
            item.take(kind, offset, data)
    item.flush_pending()
    return None


# ---------------------------------------------------------------------------
# subscriptions

class Subscription:
    """A channel subscription read with `receive()` (see `subscribe`)."""

    def __init__(self, channel: str, name: bytes, queue: int, overflow: str) -> None:
        self.channel = channel
        self.name = name
        self.limit = queue
        self.overflow = overflow
        self.queue: collections.deque = collections.deque()  # (kind, offset, data)
        self.queued = 0
        self.ready = Event()
        self.timeout_ms = DEFAULT_TIMEOUT_MS
        self.offset = 0  #: the offset of the last message receive() returned
        self.seen = 0  # the offset of the last message queued (or `since`)
        self.epoch: Optional[str] = None  #: the backend's epoch
        self.dropped = 0  #: messages dropped by the "drop_oldest" policy
        self.recovered = True  #: False when `since` could not be honoured (see `gap`)
        self.gap: Optional[str] = None
        self.ended: Optional[str] = None  # why receive() returns no more: "closed", "overflow"
        self.pending: Optional[list] = []  # live messages held while the history is read

    def settimeout(self, ms) -> None:
        """The timeout of the following `receive()` calls, in milliseconds (0: wait forever)."""
        self.timeout_ms = int(ms)

    def _push(self, kind: int, offset: int, data: bytes) -> None:
        if self.pending is not None:
            self.pending.append((kind, offset, data))
        else:
            self.take(kind, offset, data)

    def take(self, kind: int, offset: int, data: bytes) -> None:
        if offset <= self.seen or self.ended:
            return
        self.seen = offset
        if self.queued + len(data) > self.limit:
            if self.overflow == "close":
                self.queue.clear()
                self.queued = 0
                self._end("overflow")
                return
            while self.queue and self.queued + len(data) > self.limit:
                self.queued -= len(self.queue.popleft()[2])
                self.dropped += 1
            if len(data) > self.limit:
                self.dropped += 1
                return
        self.queue.append((kind, offset, data))
        self.queued += len(data)
        self.ready.set()

    def flush_pending(self) -> None:
        pending, self.pending = self.pending, None
        for kind, offset, data in pending or ():
            self.take(kind, offset, data)

    def receive(self, timeout_ms: Optional[int] = None) -> Tuple[Union[str, bytes, None], Optional[str]]:
        """The next message: `(data, err)`; data is str (text) or bytes (binary).

        err: "timeout" (the subscription stays), "closed" (unsubscribed),
        "overflow" (ended by the "close" policy).  `sub.offset` is then the
        message's offset.
        """
        queue = self.queue
        if not queue:
            if self.ended:
                return None, self.ended
            ms = self.timeout_ms if timeout_ms is None else timeout_ms
            self.ready.clear()
            if not self.ready.wait(ms / 1000.0 if ms else None):
                return None, "timeout"
            if not queue:
                return None, self.ended or "timeout"
        kind, offset, data = queue.popleft()
        self.queued -= len(data)
        self.offset = offset
        return (data.decode("utf-8") if kind == wire.TEXT else data), None

    def _end(self, why: str) -> None:
        if self.ended is None:
            self.ended = why
            _leave(self.name, self, False)
            self.ready.set()

    def unsubscribe(self) -> Tuple[Optional[int], Optional[str]]:
        """Leave the channel: `(ok, err)`; a waiting `receive()` returns "closed"."""
        if self.ended is not None:
            return None, "not subscribed"
        self._end("closed")
        return 1, None


def _options(queue, overflow, close_code):
    if queue is None:
        queue = _config.queue_size
    if not isinstance(queue, int) or queue <= 0:
        return "bad queue size: a positive number of bytes is expected"
    if overflow not in _POLICIES:
        return "bad overflow policy %r: \"drop_oldest\" or \"close\" expected" % (overflow,)
    if close_code not in (1008, 1013):
        return "bad close code %r: 1008 or 1013 expected" % (close_code,)
    return None


def subscribe(channel: str, *, since: Optional[int] = None, epoch: Optional[str] = None, queue: Optional[int] = None,
              overflow: str = "drop_oldest", timeout: Optional[int] = None
              ) -> Tuple[Optional["Subscription"], Optional[str]]:
    """Subscribe this greenlet's code to `channel`: `(sub, err)`.

    Options: `since` (an offset: deliver what came after it first), `epoch`
    (the epoch `since` belongs to), `queue` (bytes kept for this
    subscriber), `overflow` ("drop_oldest" or "close"), `timeout` (ms, the
    initial receive timeout).
    """
    err = _check_name(channel) or _options(queue, overflow, 1013)
    if err is not None:
        return None, err
    if since is not None and (not isinstance(since, int) or since < 0):
        return None, "bad since: a non-negative offset is expected"
    backend = _backend()
    if backend is None:
        return None, _config.error
    err = backend.wait_ready()
    if err is not None:
        return None, err
    name = channel.encode("ascii")
    sub = Subscription(channel, name, queue or _config.queue_size, overflow)
    if timeout is not None:
        sub.settimeout(timeout)
    err = _join(name, sub, False)
    if err is None:
        err = _recover(sub, name, since, epoch, (sub.timeout_ms or DEFAULT_TIMEOUT_MS) / 1000.0)
    if err is not None:
        sub._end("closed")
        return None, err
    return sub, None


# ---------------------------------------------------------------------------
# attached WebSockets

class Attachment:
    """One channel attached to one WebSocket (see `attach`)."""

    __slots__ = ("channel", "name", "outbox", "overflow", "close_code", "seen", "epoch", "dropped",
                 "recovered", "gap", "pending", "attached", "window_bits")

    def __init__(self, channel: str, name: bytes, outbox: Outbox, overflow: str, close_code: int) -> None:
        self.channel = channel
        self.name = name
        self.outbox = outbox
        self.overflow = overflow
        self.close_code = close_code
        self.seen = 0  # the offset of the last message written (or `since`)
        self.epoch: Optional[str] = None
        self.dropped = 0  #: messages dropped by the "drop_oldest" policy
        self.recovered = True
        self.gap: Optional[str] = None
        self.pending: Optional[list] = []
        self.attached = True
        self.window_bits = None  # the compressed frames this connection takes (see _window_bits)

    def take(self, kind: int, offset: int, data: bytes) -> None:
        if offset <= self.seen or not self.attached:
            return
        self.seen = offset
        self.outbox.write(_prepared(kind, data).frame(self.window_bits), self)

    def flush_pending(self) -> None:
        pending, self.pending = self.pending, None
        for kind, offset, data in pending or ():
            self.take(kind, offset, data)

    def detach(self):
        """Stop writing this channel's messages to the connection: `(ok, err)`."""
        if not self.attached:
            return None, "not attached"
        self.attached = False
        _leave(self.name, self, True)
        try:
            self.outbox.attachments.remove(self)
        except ValueError:
            pass
        return 1, None

    @property
    def offset(self) -> int:
        """The offset of the last message written to the connection (what a reconnecting client passes as `since`)."""
        return self.seen

    def __bool__(self) -> bool:
        return True


def attach(wb: Any, channel: str, *, since: Optional[int] = None, epoch: Optional[str] = None,
           queue: Optional[int] = None, overflow: str = "drop_oldest", close_code: int = 1013
           ) -> Tuple[Optional["Attachment"], Optional[str]]:
    """Write every message of `channel` to the WebSocket `wb` as one frame: `(att, err)`.

    The worker frames each message once and writes the same bytes to every
    attached connection; nothing of the handler runs per message.  A
    connection may attach several channels; `att.detach()`, `detach(wb)` or
    the end of the connection stop it.  Options as `subscribe`, plus
    `close_code` (1013 or 1008) for the "close" overflow policy; `queue`
    and `overflow` are the connection's (its first attach sets the queue).
    """
    err = _check_name(channel) or _options(queue, overflow, close_code)
    if err is not None:
        return None, err
    if since is not None and (not isinstance(since, int) or since < 0):
        return None, "bad since: a non-negative offset is expected"
    if not hasattr(wb, "sock") or not hasattr(wb, "fatal"):
        return None, "bad websocket"
    backend = _backend()
    if backend is None:
        return None, _config.error
    err = backend.wait_ready()
    if err is not None:
        return None, err
    outbox = _outboxes.get(wb)
    if outbox is None or outbox.closed:
        outbox = Outbox(wb, queue or _config.queue_size, _outbox_closed)
        _outboxes[wb] = outbox
        weakref.finalize(wb, outbox.close)
        _start_sweeper()
    if not outbox.usable():
        return None, "closed"
    name = channel.encode("ascii")
    for other in outbox.attachments:
        if other.name == name:
            return None, "already attached to %s" % channel
    att = Attachment(channel, name, outbox, overflow, close_code)
    att.window_bits = _window_bits(wb)
    outbox.attachments.append(att)
    err = _join(name, att, True)
    if err is None:
        err = _recover(att, name, since, epoch, DEFAULT_TIMEOUT_MS / 1000.0)
    if err is not None:
        att.detach()
        return None, err
    return att, None


def detach(wb: Any, channel: Optional[str] = None) -> Tuple[Optional[int], Optional[str]]:
    """Detach `channel` (every channel when None) from `wb`: `(ok, err)`."""
    outbox = _outboxes.get(wb)
    if outbox is None:
        return None, "not attached"
    for att in list(outbox.attachments):
        if channel is None or att.channel == channel:
            att.detach()
            if channel is not None:
                return 1, None
    if channel is not None:
        return None, "not attached"
    return 1, None


def send(wb: Any, data: Union[str, bytes]) -> Tuple[Optional[int], Optional[str]]:
    """Send `data` (str: text, bytes: binary) to `wb` in turn with its channel messages: `(bytes, err)`.

    On a connection with attached channels the handler's own messages go
    through the same outbox as the channel frames, so they never meet a
    half-written frame ("socket busy writing"); elsewhere this is
    `wb.send_text` / `wb.send_binary`.
    """
    outbox = _outboxes.get(wb)
    if outbox is None or outbox.closed:
        return wb.send_text(data) if isinstance(data, str) else wb.send_binary(data)
    if isinstance(data, str):
        payload, kind = data.encode("utf-8"), wire.TEXT
    elif isinstance(data, (bytes, bytearray, memoryview)):
        payload, kind = bytes(data), wire.BINARY
    else:
        return None, "bad message: str or bytes expected, got %s" % type(data).__name__
    if not outbox.usable():
        return None, "closed"
    frame = _frame(kind, payload)
    outbox.write(frame, None)
    return len(frame), None


def _outbox_closed(outbox: Outbox) -> None:
    wb = outbox.wbref()
    if wb is not None and _outboxes.get(wb) is outbox:
        del _outboxes[wb]


def _start_sweeper() -> None:
    """Once per process: a 1 s check that drops the outboxes of connections that ended."""
    global _sweeper
    if _sweeper is None:
        _sweeper = gevent.spawn(_sweep)


def _sweep() -> None:
    while True:
        gevent.sleep(1.0)
        for outbox in list(_outboxes.values()):
            if not outbox.usable():
                outbox.close()


# ---------------------------------------------------------------------------

def stats() -> dict:
    """This process's view: channels with local subscribers, subscriptions, attached connections, queued bytes."""
    backend = _config.backend
    return {
        "backend": backend.name if backend is not None else None,
        "epoch": backend.epoch if backend is not None else None,
        "channels": len(_local),
        "subscriptions": sum(len(local.subs) for local in _local.values()),
        "attachments": sum(len(local.atts) for local in _local.values()),
        "connections": len(_outboxes),
        "queued_bytes": sum(o.pending_bytes() for o in _outboxes.values()),
        "time": time.time(),
    }
