"""The Redis channels backend: every server sharing one Redis shares the channels.

Per process:

* one subscriber connection (a `cosocket.redis` object in pub/sub mode)
  read by one greenlet.  Channel (un)subscriptions are written on it by the
  greenlet that asks for them and their replies come back through the
  reader's `read_reply`, so nobody waits on the reader.  With `sharded`
  the commands are SSUBSCRIBE/SPUBLISH (Redis 7, Redis Cluster).
* publishes on pooled connections: one Lua script appends the message to the
  channel's stream (XADD MAXLEN = the history length) and publishes it with
  the stream id, atomically, so the order of the offsets is the order of
  delivery.  Offsets are stream ids made integers (ms << 20 | seq).
* history: the publish script trims the stream itself (history length,
  age) and keeps the newest id it trimmed away (the floor): the stream covers
  every offset from the floor on; XRANGE reads what came after one.
* the epoch: a key set once (SET NX) in the Redis; a Redis that lost its data
  makes a new one, and subscribers are told "new epoch".

When the subscriber connection breaks the reader connects again (with a
growing delay), subscribes again to every channel this process holds, and
recovers what each missed from the streams (or reports the gap).  A publish
while Redis is unreachable returns the error: nothing is lost silently.
"""
from __future__ import annotations

import os
import urllib.parse
from typing import Callable, Iterable, Optional

import gevent
from gevent.event import Event
from gevent.lock import Semaphore

from cosocket import log, redis, tcp
from cosocket.text import null

PREFIX = "channels:"
EPOCH_KEY = PREFIX + "epoch"
_CONNECT_TIMEOUT_MS = 5000
_READ_TIMEOUT_MS = 30000
_RETRY_MAX = 2.0

# KEYS[1] stream, KEYS[2] its floor (the newest id trimmed away); ARGV: maxlen, max age in ms (0: none),
# payload (kind byte + data), pub/sub channel, publish command
_PUBLISH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[3])
local maxlen = tonumber(ARGV[1])
local over = redis.call('XLEN', KEYS[1]) - maxlen
if over > 0 then
  local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', over)
  redis.call('SET', KEYS[2], old[#old][1])
  redis.call('XTRIM', KEYS[1], 'MAXLEN', maxlen)
end
local age = tonumber(ARGV[2])
if age > 0 then
  local ms = tonumber(string.match(id, '^(%d+)-')) - age
  local older = redis.call('XREVRANGE', KEYS[1], '(' .. ms .. '-0', '-', 'COUNT', 1)
  if #older > 0 then
    redis.call('SET', KEYS[2], older[1][1])
    redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-0')
  end
end
redis.call(ARGV[5], ARGV[4], id .. ' ' .. ARGV[3])
return id
"""

# KEYS[1] stream, KEYS[2] floor; ARGV[1]: the id after which to read -> {status, last id, entries}
_HISTORY_SCRIPT = """
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {ARGV[1] == '0-0' and 0 or 1, '0-0', {}}
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1]
local floor = redis.call('GET', KEYS[2]) or '0-0'
if older(ARGV[1], floor) or older(last, ARGV[1]) then
  return {1, last, {}}
end
return {0, last, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')}
"""


def parse_url(url: str) -> dict:
    """redis://[user:password@]host[:port][/db], rediss://... (TLS), redis+unix:///path[?db=N&password=P].

    Raises ValueError with the reason.
    """
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    out = {"ssl": parts.scheme == "rediss", "user": urllib.parse.unquote(parts.username or "") or None,
           "password": urllib.parse.unquote(parts.password or "") or (query.get("password") or [None])[0]}
    if parts.scheme in ("redis", "rediss"):
        if not parts.hostname:
            raise ValueError("no host in %s" % url)
        out["host"] = parts.hostname
        try:
            out["port"] = parts.port or 6379
        except ValueError:
            raise ValueError("bad port in %s" % url) from None
        db = parts.path.lstrip("/")
    elif parts.scheme == "redis+unix":
        if not parts.path:
            raise ValueError("no socket path in %s" % url)
        out["host"] = "unix:" + parts.path
        out["port"] = None
        db = (query.get("db") or [""])[0]
    else:
        raise ValueError("not a redis URL: %s" % url)
    if db and not db.isdigit():
        raise ValueError("bad database number %r in %s" % (db, url))
    out["db"] = int(db) if db else 0
    return out


def offset_of(stream_id) -> int:
    """A stream id ("ms-seq") as an increasing integer."""
    if isinstance(stream_id, bytes):
        stream_id = stream_id.decode("ascii")
    ms, _, seq = stream_id.partition("-")
    return (int(ms) << 20) | int(seq)


def id_of(offset: int) -> str:
    return "%d-%d" % (offset >> 20, offset & 0xFFFFF)


class RedisLink:
    """One process's channels over Redis (same calls as the embedded BrokerLink)."""

    name = "redis"

    def __init__(self, url: str, on_message: Callable, on_reset: Callable, channels: Callable[[], Iterable[bytes]],
                 history_messages: int = 0, sharded: bool = False, timeout_ms: int = _CONNECT_TIMEOUT_MS,
                 history_time_ms: int = 0):
        self.target = parse_url(url)
        self.url = url
        self.timeout_ms = timeout_ms
        self.on_message = on_message
        self.on_reset = on_reset
        self.channels = channels
        self.maxlen = max(history_messages, 1)  # one entry at least: the stream carries the last id
        self.max_age = history_time_ms
        self.sharded = sharded
        self.sub_cmd, self.unsub_cmd, self.pub_cmd = (("SSUBSCRIBE", "SUNSUBSCRIBE", "SPUBLISH") if sharded
                                                      else ("SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH"))
        self.message_kind = b"smessage" if sharded else b"message"
        self.epoch: Optional[str] = None
        self.ready = Event()
        self.write_lock = Semaphore()
        self.sub_sock = None
        self.error = "not connected"
        self.seen: dict = {}  # channel -> the last offset delivered here (what a reconnect recovers after)
        self.control = "%sctl:%s" % (PREFIX, os.urandom(6).hex())
        self.acks: dict = {}  # channel (bytes) -> Event set when Redis confirms the subscription
        self.reader = gevent.spawn(self._run)

    # -- connections ----------------------------------------------------------------------
    def _connect(self, sock=None):
        """A connected, authenticated Redis object on `sock` (a new cosocket when None): (red, err)."""
        t = self.target
        red = redis.Redis(sock if sock is not None else tcp.tcp())
        red.set_timeouts(self.timeout_ms, self.timeout_ms, self.timeout_ms)
        opts = {"pool": "channels:" + self.url} if sock is None else {}  # the subscriber is never pooled
        if t["ssl"]:
            opts["ssl"] = True
            opts["server_name"] = t["host"]
        ok, err = red.connect(t["host"], opts) if t["port"] is None else red.connect(t["host"], t["port"], opts)
        if not ok:
            return None, "redis connect failed: %s" % err
        reused, _ = red.get_reused_times()
        if not reused:
            if t["password"] is not None:
                args = (t["user"], t["password"]) if t["user"] else (t["password"],)
                res, err = red.auth(*args)
                if res is not True and res != "OK":
                    red.close()
                    return None, "redis auth failed: %s" % (err or res)
            if t["db"]:
                res, err = red.select(t["db"])
                if res != "OK":
                    red.close()
                    return None, "redis select failed: %s" % (err or res)
        return red, None

    def _call(self, fn):
        """Run `fn(red)` on a pooled connection: its result, or (None, err) when Redis fails."""
        red, err = self._connect()
        if red is None:
            return None, err
        try:
            res, err = fn(red)
        except Exception as exc:  # a reply of an unexpected shape: say so, drop the connection
            red.close()
            return None, "redis answered something unexpected: %s" % exc
        if res is None:
            red.close()
            return None, "redis: %s" % err
        red.set_keepalive(60000, 32)
        return res, err

    def _fetch_epoch(self, red):
        res, err = red.set(EPOCH_KEY, "%x-%x" % (int.from_bytes(os.urandom(4), "big"), os.getpid()), "NX")
        if res is None:
            return None, err
        res, err = red.get(EPOCH_KEY)
        if not isinstance(res, bytes):
            return None, err or "no epoch"
        return res.decode("ascii", "replace"), None

    # -- the subscriber connection ---------------------------------------------------------
    def wait_ready(self, timeout: Optional[float] = None) -> Optional[str]:
        if self.ready.is_set():
            return None
        self.ready.wait(self.timeout_ms / 1000.0 if timeout is None else timeout)
        return None if self.ready.is_set() else "redis unavailable: %s" % self.error

    def _run(self) -> None:
        delay = 0.05
        while True:
            try:
                err = self._session()
            except gevent.GreenletExit:
                raise
            except BaseException as exc:  # the reader must outlive anything a broken Redis does to it
                err = "unexpected failure: %r" % (exc,)
            self.ready.clear()
            self.sub_sock = None
            self.error = err
            log.error(log.WARN, "channels: redis subscriber connection lost (%s), connecting again" % err)
            gevent.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    def _session(self) -> str:
        sock = tcp.tcp()
        red, err = self._connect(sock)
        if red is None:
            return err
        epoch, err = self._fetch_epoch(red)
        if epoch is None:
            red.close()
            return "redis epoch: %s" % err
        res, err = red.subscribe(self.control)  # pub/sub mode: every other (un)subscribe goes raw
        if not res:
            red.close()
            return "redis subscribe failed: %s" % err
        sock.settimeouts(self.timeout_ms, self.timeout_ms, _READ_TIMEOUT_MS)
        changed = self.epoch is not None and epoch != self.epoch
        self.epoch = epoch
        if changed:
            self.seen.clear()
            self.on_reset(epoch)
        self.sub_sock = sock
        names = list(self.channels())
        if names:
            err = self._raw(sock, [self.sub_cmd] + [self._channel(n) for n in names])
            if err is not None:
                red.close()
                return err
        self.ready.set()
        if not changed:
            gevent.spawn(self._recover_all, names)
        while True:
            res, err = red.read_reply()
            if res is None:
                if err == "timeout":
                    self._raw(sock, ["PING"])  # a quiet Redis is asked whether it is still there
                    continue
                red.close()
                return err
            if type(res) is list and len(res) == 3:
                if res[0] == self.message_kind:
                    self._message(res[1], res[2])
                elif res[0] in (b"subscribe", b"ssubscribe"):
                    ack = self.acks.pop(res[1], None)
                    if ack is not None:
                        ack.set()

    def _message(self, channel: bytes, payload: bytes) -> None:
        if not channel.startswith(b"channels:{"):
            return
        name = channel[10:-1]
        sid, _, body = payload.partition(b" ")
        if not body:
            log.error(log.ERR, "channels: a malformed message on redis channel %r" % channel)
            return
        offset = offset_of(sid)
        self.seen[name] = offset
        self.on_message(name, body[0] - 48, offset, body[1:])

    def _recover_all(self, names) -> None:
        """After a reconnection: what each channel got while this process was not subscribed."""
        for name in names:
            since = self.seen.get(name)
            if since is None:
                continue
            status, _last, items, err = self.history(name, since, 5.0)
            if err is not None or status != 0:
                self.on_reset_channel(name, err or "history no longer covers offset %d" % since)
                continue
            for kind, offset, data in items:
                self.seen[name] = offset
                self.on_message(name, kind, offset, data)

    def on_reset_channel(self, name: bytes, why: str) -> None:
        log.error(log.WARN, "channels: messages of %s may be lost while redis was unreachable: %s"
                  % (name.decode(), why))

    @staticmethod
    def _encode(args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode("utf-8")
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def _raw(self, sock, args) -> Optional[str]:
        """Write a command on the subscriber connection; its reply comes back through the reader."""
        with self.write_lock:
            sent, err = sock.send(self._encode(args))
        return None if sent is not None else "redis send failed: %s" % err

    @staticmethod
    def _channel(name: bytes) -> str:
        return "%s{%s}" % (PREFIX, name.decode())

    def subscribe(self, name: bytes) -> Optional[str]:
        """Subscribe this process to `name`; returns once Redis confirmed it (a message published after
        this reaches this process)."""
        err = self.wait_ready()
        if err is not None:
            return err
        channel = self._channel(name)
        ack = self.acks.setdefault(channel.encode(), Event())
        err = self._raw(self.sub_sock, [self.sub_cmd, channel])
        if err is None and not ack.wait(self.timeout_ms / 1000.0):
            err = "redis did not confirm the subscription"
        return err

    def unsubscribe(self, name: bytes) -> None:
        self.seen.pop(name, None)
        sock = self.sub_sock
        if sock is not None:
            self._raw(sock, [self.unsub_cmd, self._channel(name)])

    # -- publish and history -------------------------------------------------------------
    def publish(self, name: bytes, kind: int, data: bytes) -> Optional[str]:
        channel = self._channel(name)
        payload = bytes((48 + kind,)) + data

        def run(red):
            return red.eval(_PUBLISH_SCRIPT, 2, channel + ":h", channel + ":floor", self.maxlen, self.max_age,
                            payload, channel, self.pub_cmd)
        res, err = self._call(run)
        if res is None:
            return err
        if res is False or not isinstance(res, bytes):
            return "redis publish failed: %s" % (err or "unexpected reply %r" % (res,))
        return None

    def history(self, name: bytes, since: int, timeout: float):
        channel = self._channel(name)

        def run(red):
            return red.eval(_HISTORY_SCRIPT, 2, channel + ":h", channel + ":floor", id_of(since))
        res, err = self._call(run)
        if res is None:
            return None, None, None, err
        if res is False or type(res) is not list or len(res) != 3:
            return None, None, None, "redis history failed: %s" % (err or "unexpected reply %r" % (res,))
        status, last, entries = res
        items = []
        if entries is not null:
            for sid, fields in entries:
                body = fields[1]
                items.append((body[0] - 48, offset_of(sid), body[1:]))
        return status, offset_of(last), items, None

