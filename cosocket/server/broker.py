"""The embedded channels broker: one process beside the workers, forked and kept by the master.

The master binds the broker's unix socket (`channels_socket`, default
`logs/channels.sock` under the prefix) before any worker starts, then forks
this process; every worker keeps one connection to it.  A publish goes to the
broker, which gives it the channel's next offset, keeps it in the channel's
history (`channels_history N [T]`) and forwards it once to every worker
connection subscribed to the channel, in the order it received them.

The broker outlives reloads (the master keeps it: new workers connect, old
ones keep their connection until they exit) and is started again by the
master if it dies, with a new epoch.  A worker that dies loses only its own
connection.  A worker that stops reading is cut off once `_MAX_BACKLOG` bytes
wait for it, so the broker never grows without bound.

This is a plain selectors loop (no gevent): it only moves records.
"""
from __future__ import annotations

import collections
import errno
import os
import selectors
import signal
import socket
import time
from typing import Dict, List, Optional

from .. import brokerwire as wire
from .. import log

#: Bytes waiting for one worker connection before the broker drops it (a stopped or stuck worker).
_MAX_BACKLOG = 64 * 1024 * 1024
_READ_SIZE = 256 * 1024


class _Channel:
    __slots__ = ("subscribers", "floor", "history")

    def __init__(self, floor: int) -> None:
        self.subscribers: set = set()
        # the history holds every message of this channel with an offset above `floor`
        self.floor = floor
        self.history: collections.deque = collections.deque()  # (offset, monotonic time, kind, data)


class _Peer:
    __slots__ = ("sock", "inbuf", "outbuf", "channels", "writing")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.channels: set = set()
        self.writing = False


class Broker:
    """The broker's state and loop (runs in the broker process)."""

    def __init__(self, listener: socket.socket, history_messages: int, history_time_ms: int, master_pid: int):
        self.listener = listener
        self.history_messages = history_messages
        self.history_time = history_time_ms / 1000.0
        self.master_pid = master_pid
        self.epoch = "%x-%x" % (int(time.time() * 1000), os.getpid())
        self.channels: Dict[bytes, _Channel] = {}
        self.last = 0  # the offset of the last message published on any channel (offsets only increase)
        self.peers: Dict[int, _Peer] = {}
        self.sel = selectors.DefaultSelector()
        self.pending: List[_Peer] = []  # peers with bytes to flush after this round

    # -- the loop ------------------------------------------------------------------
    def run(self) -> None:
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        last_sweep = time.monotonic()
        while True:
            for key, events in self.sel.select(1.0):
                peer = key.data
                if peer is None:
                    self._accept()
                    continue
                if events & selectors.EVENT_READ:
                    self._read(peer)
                if events & selectors.EVENT_WRITE and peer.sock.fileno() != -1:
                    self._flush(peer)
            for peer in self.pending:
                self._flush(peer)
            self.pending = []
            now = time.monotonic()
            if now - last_sweep >= 1.0:
                last_sweep = now
                if os.getppid() != self.master_pid:
                    return  # the master is gone: so is the server
                self._sweep(now)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    log.error(log.CRIT, "channels broker: accept4() failed (%d: %s)"
                              % (exc.errno, os.strerror(exc.errno)))
                return
            sock.setblocking(False)
            peer = _Peer(sock)
            self.peers[sock.fileno()] = peer
            self.sel.register(sock, selectors.EVENT_READ, peer)
            self._queue(peer, wire.welcome(self.epoch))

    def _read(self, peer: _Peer) -> None:
        try:
            data = peer.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(peer)
            return
        peer.inbuf += data
        try:
            records = wire.split(peer.inbuf)
        except ValueError as exc:
            log.error(log.ERR, "channels broker: dropping a worker connection: %s" % exc)
            self._drop(peer)
            return
        for kind, body in records:
            if kind == wire.PUB:
                self._publish(*wire.parse_publish(body))
            elif kind == wire.SUB:
                self._channel(body).subscribers.add(peer)
                peer.channels.add(body)
            elif kind == wire.UNSUB:
                self._unsubscribe(peer, body)
            elif kind == wire.HIST:
                self._history(peer, *wire.parse_history_request(body))
            else:
                log.error(log.ERR, "channels broker: dropping a worker connection: unknown record %d" % kind)
                self._drop(peer)
                return

    # -- channels ------------------------------------------------------------------
    def _channel(self, name: bytes) -> _Channel:
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = _Channel(self.last)
        return ch

    def _publish(self, kind: int, name: bytes, data: bytes) -> None:
        ch = self._channel(name)
        self.last += 1
        if self.history_messages:
            hist = ch.history
            hist.append((self.last, time.monotonic(), kind, data))
            if len(hist) > self.history_messages:
                ch.floor = hist.popleft()[0]
        else:
            ch.floor = self.last
        if ch.subscribers:
            record = wire.message(kind, self.last, name, data)
            for peer in ch.subscribers:
                self._queue(peer, record)

    def _unsubscribe(self, peer: _Peer, name: bytes) -> None:
        peer.channels.discard(name)
        ch = self.channels.get(name)
        if ch is not None:
            ch.subscribers.discard(peer)

    def _history(self, peer: _Peer, req: int, since: int, name: bytes) -> None:
        ch = self._channel(name)
        self._expire(ch, time.monotonic())
        if since < ch.floor or since > self.last:
            status, items = 1, []
        else:
            status = 0
            items = [(kind, offset, data) for offset, _t, kind, data in ch.history if offset > since]
        self._queue(peer, wire.history_reply(req, status, self.last, items))

    def _expire(self, ch: _Channel, now: float) -> None:
        if self.history_time:
            hist = ch.history
            limit = now - self.history_time
            while hist and hist[0][1] < limit:
                ch.floor = hist.popleft()[0]

    def _sweep(self, now: float) -> None:
        """Expire old history; forget channels with no subscriber and nothing kept."""
        for name, ch in list(self.channels.items()):
            self._expire(ch, now)
            if not ch.subscribers and not ch.history:
                del self.channels[name]  # made again on its next use, with the floor at the last offset

    # -- output --------------------------------------------------------------------
    def _queue(self, peer: _Peer, record: bytes) -> None:
        if not peer.outbuf:
            self.pending.append(peer)
        peer.outbuf += record
        if len(peer.outbuf) > _MAX_BACKLOG:
            log.error(log.ERR, "channels broker: a worker connection stopped reading (%d bytes waiting), "
                      "dropping it" % len(peer.outbuf))
            self._drop(peer)

    def _flush(self, peer: _Peer) -> None:
        if not peer.outbuf or peer.sock.fileno() == -1:
            return
        try:
            n = peer.sock.send(peer.outbuf)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            self._drop(peer)
            return
        del peer.outbuf[:n]
        want = bool(peer.outbuf)
        if want != peer.writing:
            peer.writing = want
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self.sel.modify(peer.sock, events, peer)

    def _drop(self, peer: _Peer) -> None:
        fd = peer.sock.fileno()
        if fd == -1:
            return
        for name in peer.channels:
            ch = self.channels.get(name)
            if ch is not None:
                ch.subscribers.discard(peer)
        peer.channels = set()
        peer.outbuf = bytearray()
        self.peers.pop(fd, None)
        try:
            self.sel.unregister(peer.sock)
        except (KeyError, ValueError):
            pass
        peer.sock.close()


# ---------------------------------------------------------------------------
# the master's side


def bind(path: str) -> socket.socket:
    """The broker's listening unix socket at `path` (a stale socket file is replaced)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if os.path.exists(path):
            os.unlink(path)
        sock.bind(path)
        sock.listen(511)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, 'bind() to unix:%s failed (%d: %s)' % (path, exc.errno, exc.strerror)) from None
    return sock


class BrokerProcess:
    """The master's handle on the broker process: start it when the conf asks for it, restart it if it dies."""

    def __init__(self) -> None:
        self.pid: Optional[int] = None
        self.conf = None  # the ChannelsConf it was started with

    @staticmethod
    def wanted(main_conf):
        """The ChannelsConf when `main_conf` uses the embedded broker, else None."""
        cc = main_conf.http.channels
        return cc if cc is not None and cc.backend == "embedded" else None

    def ensure(self, main_conf, inherited_fds: List[int]) -> None:
        """Start the broker if `main_conf` needs one and none runs (a reload keeps a running one).

        `inherited_fds`: the master's listening sockets, closed in the broker.
        """
        cc = self.wanted(main_conf)
        if cc is None or self.pid is not None:
            return
        self.start(cc, inherited_fds)

    def start(self, cc, inherited_fds: List[int]) -> None:
        try:
            listener = bind(cc.socket)
        except OSError as exc:
            log.error(log.EMERG, "channels broker: %s" % exc.strerror)
            return
        master = os.getpid()
        pid = os.fork()
        if pid == 0:
            _broker_main(listener, cc, master, inherited_fds)
            os._exit(0)  # not reached
        listener.close()
        self.pid = pid
        self.conf = cc
        self.fds = inherited_fds
        log.error(log.NOTICE, "start channels broker process %d" % pid)

    def reaped(self, pid: int, status: int, running: bool) -> bool:
        """True when `pid` was the broker (logged; started again while the server runs)."""
        if pid != self.pid:
            return False
        self.pid = None
        if os.WIFSIGNALED(status):
            log.error(log.ALERT, "channels broker process %d exited on signal %d" % (pid, os.WTERMSIG(status)))
        else:
            log.error(log.NOTICE, "channels broker process %d exited with code %d" % (pid, os.WEXITSTATUS(status)))
        if running:
            self.start(self.conf, self.fds)
        return True

    def stop(self) -> None:
        """End the broker (the master exits: every worker has gone)."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid = None
        if self.conf is not None:
            try:
                os.unlink(self.conf.socket)
            except OSError:
                pass


def _broker_main(listener: socket.socket, cc, master_pid: int, inherited_fds: List[int]) -> None:
    """Entry of the forked broker process; never returns."""
    code = 0
    try:
        for fd in inherited_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2,
                    signal.SIGWINCH, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)  # the master decides when the broker ends
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        Broker(listener, cc.history_messages, cc.history_time, master_pid).run()
    except BaseException:
        import traceback
        log.error(log.ALERT, "channels broker failed: " + traceback.format_exc().rstrip())
        code = 2
    os._exit(code)
