"""Writing pre-built frames to one WebSocket: the per-connection outbox of channels.

`Outbox.write(frame)` hands the frame to the kernel with one non-blocking
send.  What the kernel does not take waits in a bounded byte queue, flushed
by an event-loop write watcher when the socket is writable (no greenlet per
connection, none per message).  When the queue would pass its limit the
overflow policy of the attachment that brought the frame applies:

* "drop_oldest": whole queued frames not yet begun are dropped, oldest
  first, and counted on the attachment that brought each (`att.dropped`);
* "close": the queue is cut to the frame being written, a close frame (code
  1008 or 1013) is queued after it and the connection is shut down once it
  is out (or after `CLOSE_WAIT` seconds).

Over TLS the frames go through the WebSocket's own (blocking) `send_framed`,
from one greenlet per connection that lives while its queue is not empty.

While a frame is partly written the connection's own sends would cut into
it: the outbox marks the socket busy until the frame is out, so such a send
answers "socket busy writing" (as two writers on one nginx cosocket do)
instead of corrupting the stream.
"""
from __future__ import annotations

import collections
import os
import weakref
import socket as _stdsocket
import gevent

from .protocol import OP_CLOSE, build_frame, close_payload

#: Seconds a connection closed for overflow is given to take its close frame.
CLOSE_WAIT = 2.0


# -- the seam with the connection's stream ----------------------------------------------
# Plain sockets: frames go out with non-blocking sends on the descriptor the stream gives
# (`direct_write_fd`), the stream marked busy (`hold_writing`) while a frame is partly written.

def _write_fd(sock, holding: bool) -> int:
    """The descriptor frames may be written on now, or -1 (closed, or another greenlet's send under way);
    `holding`: the busy mark is this outbox's own and does not count."""
    if not holding:
        return sock.direct_write_fd()
    sock.hold_writing(False)
    try:
        return sock.direct_write_fd()
    finally:
        sock.hold_writing(True)


def _send(fd: int, data) -> int:
    """One non-blocking send: the bytes taken (0 when the socket's buffer is full); OSError on failure."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


class Outbox:
    """The frames waiting for one connection; shared by all the channels attached to it."""

    __slots__ = ("wbref", "sock", "fd", "limit", "queue", "queued", "head_sent", "watcher", "timer", "holding",
                 "closing", "closed", "attachments", "on_closed", "flusher", "__weakref__")

    def __init__(self, wb, limit: int, on_closed) -> None:
        self.wbref = weakref.ref(wb)  # not a strong reference: the end of the WebSocket closes the outbox
        self.sock = wb.sock
        # the descriptor of a plain socket, -1 over TLS (frames then go through `wb.send_framed`
        # from one greenlet per connection with a backlog)
        self.fd = _write_fd(wb.sock, wb.sock.is_writing())
        self.limit = limit
        self.queue: collections.deque = collections.deque()  # [frame, attachment]
        self.queued = 0  # bytes in the queue, the first frame's sent part excluded
        self.head_sent = 0  # bytes of the first queued frame already written
        self.watcher = None
        self.timer = None
        self.holding = False  # this outbox marked the socket busy (a frame is partly written)
        self.closing = False
        self.closed = False
        self.attachments: list = []
        self.on_closed = on_closed  # called once with this outbox when the connection is gone
        self.flusher = None  # TLS: the greenlet writing the queue with the WebSocket's blocking send

    def usable(self) -> bool:
        """Whether frames can still be written (the connection is open)."""
        wb = self.wbref()
        if wb is None or self.closed:
            return False
        if self.fd < 0:
            open_ = self.sock.readable()
        else:
            open_ = (not self.holding and self.sock.is_writing()) or _write_fd(self.sock, self.holding) >= 0
        return open_ and not wb.fatal and not wb.closed and not getattr(wb, "close_sent", False)

    def write(self, frame: bytes, att) -> None:
        """Send `frame` now if the socket takes it, else queue it (the overflow policy of `att` applies;
        `att` None: the handler's own frame, always queued)."""
        if self.closing:
            return
        if self.fd < 0:  # TLS: the encryption needs the stream's own send
            if att is not None and self.queued + len(frame) > self.limit and not self._overflow(len(frame), att):
                return
            self.queue.append([frame, att])
            self.queued += len(frame)
            if self.flusher is None:
                self.flusher = gevent.spawn(self._flush_tls)
            return
        if not self.queue and not self.sock.is_writing():
            fd = self.sock.direct_write_fd()
            try:
                if fd < 0:
                    raise OSError("closed")
                n = _send(fd, frame)
            except OSError:
                self.close()
                return
            if n == len(frame):
                return
            self.queue.append([frame, att])
            self.head_sent = n
            self.queued = len(frame) - n
            if n:
                self._hold()
            self._arm()
            return
        if att is not None and self.queued + len(frame) > self.limit and not self._overflow(len(frame), att):
            return
        self.queue.append([frame, att])
        self.queued += len(frame)
        self._arm()

    def _overflow(self, size: int, att) -> bool:
        """Make room for `size` bytes under `att`'s policy; False when the frame must not be queued."""
        if att.overflow == "close":
            self._close_for_overflow(att.close_code)
            return False
        queue = self.queue
        # the first frame stays when it is partly written (its tail must follow its head)
        keep = 1 if queue and (self.head_sent or self.flusher is not None) else 0
        while queue and len(queue) > keep and self.queued + size > self.limit:
            frame, owner = queue[keep] if keep else queue[0]
            if keep:
                del queue[1]
            else:
                queue.popleft()
            self.queued -= len(frame)
            if owner is not None:
                owner.dropped += 1
        if self.queued + size > self.limit:
            att.dropped += 1  # bigger than the whole queue allows: this one goes
            return False
        return True

    def _close_for_overflow(self, code: int) -> None:
        queue = self.queue
        keep = 1 if queue and (self.head_sent or self.flusher is not None) else 0
        while len(queue) > keep:
            queue.pop()
        self.queued = len(queue[0][0]) - self.head_sent if queue else 0
        payload = close_payload(code, "subscriber too slow")
        frame = build_frame(True, OP_CLOSE, len(payload), payload, False)
        self.closing = True
        queue.append([frame, None])
        self.queued += len(frame)
        self._detach_all()
        self.timer = gevent.get_hub().loop.timer(CLOSE_WAIT)
        self.timer.start(self._shutdown)
        if self.fd < 0:
            if self.flusher is None:
                self.flusher = gevent.spawn(self._flush_tls)
        else:
            self._arm()

    # -- flushing --------------------------------------------------------------------
    def _hold(self) -> None:
        if not self.holding:
            self.holding = True
            self.sock.hold_writing(True)

    def _release(self) -> None:
        if self.holding:
            self.holding = False
            self.sock.hold_writing(False)

    def _arm(self) -> None:
        if self.watcher is None and self.fd >= 0 and (self.sock.is_writing() or _write_fd(self.sock, False) >= 0):
            self.watcher = gevent.get_hub().loop.io(self.fd, 2)
            self.watcher.start(self._on_writable)

    def _disarm(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.close()
            self.watcher = None

    def _on_writable(self) -> None:
        if not self.holding and self.sock.is_writing():
            return  # the connection's own send is under way: it ends before our next frame starts
        if _write_fd(self.sock, self.holding) != self.fd:  # the stream closed (its descriptor gone)
            self.close()
            return
        queue = self.queue
        while queue:
            frame = queue[0][0]
            self._hold()
            try:
                n = _send(self.fd, memoryview(frame)[self.head_sent:])
                if not n:
                    return
            except OSError:
                self.close()
                return
            self.head_sent += n
            self.queued -= n
            if self.head_sent < len(frame):
                return
            queue.popleft()
            self.head_sent = 0
            self._release()
        self.queued = 0
        self._disarm()
        if self.closing:
            self._shutdown()

    def _flush_tls(self) -> None:
        queue = self.queue
        while queue and not self.closed:
            wb = self.wbref()
            if wb is None:
                break
            if self.sock.is_writing():  # the handler's own send is under way
                gevent.sleep(0.001)
                continue
            frame = queue[0][0]
            sent, _err = wb.send_framed(frame)
            if sent is None:
                self.flusher = None
                self.close()
                return
            if queue and queue[0][0] is frame:
                queue.popleft()
                self.queued -= len(frame)
        self.flusher = None
        if self.closing and not self.closed:
            self._shutdown()

    def _shutdown(self) -> None:
        fd = _write_fd(self.sock, self.holding) if self.fd >= 0 else -1
        if fd < 0:
            self.sock.abort()  # the handler's next read ends the connection
        else:
            try:
                # the handler's next read ends the connection (through a duplicate: the stream owns fd)
                with _stdsocket.socket(fileno=os.dup(fd)) as dup:
                    dup.shutdown(_stdsocket.SHUT_RDWR)
            except OSError:
                pass
        self.close()

    # -- ending ----------------------------------------------------------------------
    def _detach_all(self) -> None:
        for att in list(self.attachments):
            att.detach()

    def close(self) -> None:
        """Forget every queued frame and detach every channel (the connection is gone or closing)."""
        if self.closed:
            return
        self.closed = True
        self._disarm()
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        flusher, self.flusher = self.flusher, None
        if flusher is not None and flusher is not gevent.getcurrent():
            flusher.kill(block=False)
        self._release()
        self.holding = False
        self.queue.clear()
        self.queued = 0
        self._detach_all()
        self.on_closed(self)

    def pending_bytes(self) -> int:
        """Bytes queued and not yet written."""
        return self.queued

