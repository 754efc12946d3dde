"""nginx-style read deadlines: one timer per worker instead of a `gevent.Timeout` per wait.

A cosocket waiting for data sets its deadline in a slot (`_deadline`) and
parks its greenlet on the socket's read watcher.  Each socket has at most
one entry in a per-loop heap (`[deadline, seq, socket]`, kept in its
`_tentry` slot); a wait whose deadline is not earlier than the registered one
only writes the slot.  The one libev timer fires at the earliest entry: an
entry whose socket's deadline has passed wakes that socket's greenlet with
`TIMED_OUT`; one whose socket waits again with a later deadline is pushed
back with it; the others are dropped.  So a busy connection with a 60 s read
timeout touches the heap once a minute, not once per message (nginx's
NGX_TIMER_LAZY_DELAY idea, made exact), and an idle one holds one small list
instead of a Timeout, its timer watcher and its exception.

Sockets give their entry up with `forget()` when their connection ends
(a tombstone); tombstones are swept when they outnumber live entries.
"""
from __future__ import annotations

from heapq import heapify, heappop, heappush

from gevent import get_hub
from greenlet import getcurrent
from greenlet import greenlet as _greenlet

#: What a timed-out waiter's `hub.switch()` returns.
TIMED_OUT = object()


class _Timers:
    """The heap of one event loop and its single timer watcher."""

    __slots__ = ("hub", "loop", "heap", "seq", "timer", "armed_at", "dead")

    def __init__(self, hub) -> None:
        self.hub = hub
        self.loop = hub.loop
        self.heap: list = []
        self.seq = 0
        self.timer = None
        self.armed_at = None
        self.dead = 0

    def push(self, sock, deadline: float) -> None:
        self.seq += 1
        entry = [deadline, self.seq, sock]
        sock._tentry = entry
        heappush(self.heap, entry)
        if self.armed_at is None or deadline < self.armed_at:
            self._arm(deadline)

    def _arm(self, deadline: float) -> None:
        timer = self.timer
        if timer is not None:
            timer.stop()  # not close(): this may run inside that timer's own callback
        delay = deadline - self.loop.now()
        # ref=False: a pending deadline alone does not keep the loop running (the io watcher does)
        self.timer = timer = self.loop.timer(delay if delay > 0 else 0.0, ref=False)
        self.armed_at = deadline
        timer.start(self._fire)

    def forget(self, entry) -> None:
        entry[2] = None
        self.dead += 1
        if self.dead > 64 and self.dead * 2 > len(self.heap):
            self.heap = [e for e in self.heap if e[2] is not None]
            heapify(self.heap)
            self.dead = 0

    def _fire(self) -> None:
        heap = self.heap
        now = self.loop.now()
        self.armed_at = None
        expired = []
        while heap and heap[0][0] <= now:
            entry = heappop(heap)
            sock = entry[2]
            if sock is None:
                self.dead -= 1
                continue
            sock._tentry = None
            deadline = sock._deadline
            if deadline is None:
                continue  # not waiting: registers again on its next wait
            if deadline <= now:
                expired.append(sock)
            else:
                self.seq += 1
                entry = [deadline, self.seq, sock]
                sock._tentry = entry
                heappush(heap, entry)
        if heap:
            self._arm(heap[0][0])
        else:
            self.timer = None
        for sock in expired:
            deadline = sock._deadline
            waiter = sock._waiter
            if deadline is not None and deadline <= now and waiter is not None:
                waiter.switch(TIMED_OUT)


_timers = None
_switch = _greenlet.switch


def _get_timers(hub) -> _Timers:
    global _timers
    timers = _timers
    if timers is None or timers.hub is not hub:  # first use, or a new hub (after fork)
        timers = _timers = _Timers(hub)
    return timers


def wait_readable(sock, watcher, seconds: float):
    """Park the current greenlet until `watcher` (a read io watcher) fires or `seconds` pass.

    `sock` carries the `_deadline`, `_tentry` and `_waiter` slots.  Returns
    `TIMED_OUT` on timeout, anything else when woken.  Exceptions thrown in
    (gevent's cancel_wait when the socket is closed elsewhere, a kill) pass through.
    """
    current = getcurrent()
    # a connection's greenlet is the hub's child: its parent, when it is the registered hub, is
    # this thread's hub (greenlets never cross threads), which saves get_hub() per wait
    hub = current.parent
    timers = _timers
    if timers is None or timers.hub is not hub:
        hub = get_hub()
        if timers is None or timers.hub is not hub:
            timers = _get_timers(hub)
    deadline = timers.loop.now() + seconds
    sock._deadline = deadline
    entry = sock._tentry
    if entry is None:
        timers.push(sock, deadline)
    elif entry[0] > deadline:  # a shorter timeout than the registered one
        timers.forget(entry)
        timers.push(sock, deadline)
    sock._waiter = current
    watcher.start(current.switch)  # no arguments: no tuple kept per parked socket
    try:
        # greenlet's own switch to the hub: gevent's Hub.switch adds a switch_out hook lookup (a failing
        # attribute lookup a wait) and two C frames to the stack every parked connection keeps
        return _switch(hub)
    finally:
        watcher.stop()
        sock._deadline = None
        sock._waiter = None


def loop_now() -> float:
    """The event loop's clock (what deadlines are measured in)."""
    return get_hub().loop.now()


def forget(sock) -> None:
    """Drop `sock`'s heap entry (its connection ended): the heap holds no closed socket until its deadline."""
    entry = sock._tentry
    if entry is not None:
        sock._tentry = None
        timers = _timers
        if timers is not None:
            timers.forget(entry)
