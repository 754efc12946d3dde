"""lua-resty-redis's client on a cosocket: `from cosocket import redis`.

    red, err = redis.new()
    red.set_timeouts(1000, 1000, 1000)
    ok, err = red.connect("127.0.0.1", 6379)     # or "unix:/path/redis.sock"
    ok, err = red.set("dog", "an animal")         # ("OK", None)
    res, err = red.get("dog")                     # (b"an animal", None)
    red.set_keepalive(10000, 100)

Every Redis command is a method named after it in lower case, made on first
use (`red.hgetall`, `red.xadd`, ...); `del` is a Python keyword, so it is
spelled `red.del_("key")` (a trailing underscore is dropped from any command
name). Every call returns a pair `(res, err)`, as the Lua methods return two
values.

Replies (RESP2):

* status reply: `str` without the `+` (`"OK"`, `"QUEUED"`, `"PONG"`);
* integer reply: `int`;
* error reply: `(False, "ERR ...")`, Lua's `false, err`;
* bulk reply: `bytes`, exactly the stored bytes (socket data is `bytes` in
  this project and Redis values are binary); a nil bulk reply is `ngx.null`;
* multi-bulk reply: a `list` of these (an error element is `[False, err]`),
  a nil multi-bulk reply is `ngx.null`. Pub/sub messages are therefore
  `[b"message", b"dog", b"Hello"]`.

Network and protocol failures give `(None, err)` with the socket's error
string (`"timeout"`, `"closed"`, `"connection refused"`); a read timeout
closes the connection unless the object is subscribed or has run a blocking
`blpop`/`brpop`, as upstream does. Arguments are sent as Lua's `tostring`
would print them: `str` as UTF-8, `bytes` as is, numbers as Lua prints them,
booleans as `true`/`false`; trailing `None` arguments are dropped (a Lua
`nil` ends the argument list).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from . import tcp
from .text import lua_number, null
from .types import AnyErr, CountErr, OkErr

__all__ = ["new", "add_commands", "register_module_prefix", "Redis", "null"]

# The channel sets are named by the command that leaves them; each has its message kind, and each
# (un)subscribe reply kind belongs to one set.
_UNSUBSCRIBE = {"unsubscribe": b"message", "punsubscribe": b"pmessage", "sunsubscribe": b"smessage"}
_KIND = {b"subscribe": "unsubscribe", b"psubscribe": "punsubscribe", b"ssubscribe": "sunsubscribe",
         b"unsubscribe": "unsubscribe", b"punsubscribe": "punsubscribe", b"sunsubscribe": "sunsubscribe"}
_MESSAGES = (b"message", b"pmessage", b"smessage")


def _lua_type(value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, (dict, list, tuple)):
        return "table"
    return type(value).__name__


def _arg_bytes(arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, bool):
        return b"true" if arg else b"false"
    if isinstance(arg, (int, float)):
        return lua_number(arg).encode("ascii")
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    if arg is None:
        return b"nil"
    raise TypeError("bad argument to a redis command (string expected, got %s)" % _lua_type(arg))


def _request(args) -> bytes:
    """One command in the unified request protocol: *N, then $len and the bytes of each argument."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _arg_bytes(arg)
        parts.append(b"$%d\r\n" % len(data))
        parts.append(data)
        parts.append(b"\r\n")
    return b"".join(parts)


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")


class Redis:
    """One Redis connection with lua-resty-redis's methods; make it with `redis.new()`."""

    def __init__(self, sock: tcp.TCPSocket) -> None:
        self._sock = sock
        self._reqs: Optional[list] = None
        self._subscribed = False
        self._blocking = False
        self._channels: Dict[str, set] = {"unsubscribe": set(), "punsubscribe": set(), "sunsubscribe": set()}
        self._buffered: deque = deque()
        self._module_prefix = None

    def __repr__(self) -> str:
        return "<resty.redis %r>" % (self._sock,)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """Any other name is a Redis command: `red.get(key)` -> (res, err).

        Typed as returning Any because a name given to register_module_prefix()
        returns the Redis object instead of a reply.
        """
        # Reached only for names not defined yet: every other name is a Redis command (upstream's
        # lazy method generation). The method is then kept on the class, so this runs once per name.
        if name.startswith("_"):
            raise AttributeError(name)
        _define_command(name)
        return getattr(self, name)

    # -- connection ---------------------------------------------------------------------------

    def connect(self, host: Union[str, bytes, None] = None,
                port_or_opts: Union[int, str, bytes, Dict[str, Any], None] = None,
                opts: Optional[Dict[str, Any]] = None) -> OkErr:
        """`connect(host, port, opts)` / `connect("unix:/path", opts)` -> (1, None) or (None, err).

        `opts` is passed to the socket's connect as it is (`pool`, `pool_size`, `backlog`), and
        `ssl`, `ssl_verify`, `server_name` run a TLS handshake after connecting.
        """
        sock = self._sock
        if sock is None:
            return None, "not initialized"
        if isinstance(host, bytes):
            host = host.decode("utf-8", "replace")
        if not isinstance(host, str):
            raise TypeError("bad argument #1 host: string expected, got %s" % _lua_type(host))
        if host.startswith("unix:"):
            if port_or_opts is not None and not isinstance(port_or_opts, dict):
                raise TypeError("bad argument #2 opts: nil or table expected, got %s" % _lua_type(port_or_opts))
            opts = port_or_opts
            target: Tuple[Any, ...] = (host, opts)
        else:
            port = port_or_opts
            if isinstance(port, (str, bytes)):
                try:
                    port = int(port)
                except ValueError:
                    pass
            if not isinstance(port, int) or isinstance(port, bool):
                raise TypeError("bad argument #2 port: number expected, got %s" % _lua_type(port_or_opts))
            if opts is not None and not isinstance(opts, dict):
                raise TypeError("bad argument #3 opts: nil or table expected, got %s" % _lua_type(opts))
            target = (host, port, opts)

        self._subscribed = False
        for names in self._channels.values():
            names.clear()
        self._buffered.clear()

        ok, err = sock.connect(*target)
        if ok is None:
            return None, err
        if opts and opts.get("ssl"):
            session, err = sock.sslhandshake(False, opts.get("server_name"), opts.get("ssl_verify", False))
            if session is None:
                return None, "failed to do ssl handshake: %s" % err
        return ok, None

    def set_timeout(self, timeout_ms: Optional[float]) -> None:
        """The connect, send and read timeouts at once, in milliseconds."""
        if self._sock is None:
            raise RuntimeError("not initialized")
        self._sock.settimeout(timeout_ms)

    def set_timeouts(self, connect_ms: Optional[float], send_ms: Optional[float],
                     read_ms: Optional[float]) -> None:
        """The connect, send and read timeouts, in milliseconds."""
        if self._sock is None:
            raise RuntimeError("not initialized")
        self._sock.settimeouts(connect_ms, send_ms, read_ms)

    def set_keepalive(self, max_idle_timeout: Optional[float] = None, pool_size: Optional[int] = None) -> OkErr:
        """Put the connection in the pool -> (1, None) or (None, err); refused while subscribed."""
        if self._sock is None:
            return None, "not initialized"
        if self._subscribed:
            return None, "subscribed state"
        return self._sock.setkeepalive(max_idle_timeout, pool_size)

    def get_reused_times(self) -> CountErr:
        """How many times the connection came from the pool -> (count, None) or (None, err)."""
        if self._sock is None:
            return None, "not initialized"
        return self._sock.getreusedtimes()

    def close(self) -> OkErr:
        """Close the connection -> (1, None) or (None, err)."""
        if self._sock is None:
            return None, "not initialized"
        return self._sock.close()

    # -- replies ------------------------------------------------------------------------------

    def _read_reply(self):
        sock = self._sock
        line, err, _ = sock.receive()
        if line is None:
            if err == "timeout" and not self._subscribed and not self._blocking:
                sock.close()
            return None, err
        prefix = line[:1]
        if prefix == b"$":
            try:
                size = int(line[1:])
            except ValueError:
                return None, "bad reply"
            if size < 0:
                return null, None
            data, err, _ = sock.receive(size + 2)
            if data is None:
                return None, err
            return data[:size], None
        if prefix == b"+":
            return _text(line[1:]), None
        if prefix == b"*":
            try:
                n = int(line[1:])
            except ValueError:
                return None, "bad reply"
            if n < 0:
                return null, None
            values = []
            for _ in range(n):
                res, err = self._read_reply()
                if res is None:
                    return None, err
                values.append([False, err] if res is False else res)
            return values, None
        if prefix == b":":
            try:
                return int(line[1:]), None
            except ValueError:
                return None, "bad reply"
        if prefix == b"-":
            return False, _text(line[1:])
        return None, 'unknown prefix: "%s"' % (line[0] if line else "nil")

    def _is_message(self, res) -> bool:
        return self._subscribed and type(res) is list and bool(res) and res[0] in _MESSAGES

    def _read_command_reply(self):
        """The reply to a command; pub/sub messages arriving first are kept for read_reply."""
        res, err = self._read_reply()
        while self._is_message(res):
            self._buffered.append(res)
            res, err = self._read_reply()
        return res, err

    def _do_cmd(self, args):
        sock = self._sock
        if sock is None:
            return None, "not initialized"
        req = _request(args)
        if self._reqs is not None:
            self._reqs.append(req)
            return None, None
        sent, err = sock.send(req)
        if sent is None:
            return None, err
        return self._read_command_reply()

    def _command(self, name: str, args: Tuple[Any, ...]) -> AnyErr:
        while args and args[-1] is None:
            args = args[:-1]
        prefix = self._module_prefix
        if prefix is not None:
            self._module_prefix = None
            name = "%s.%s" % (prefix, name)
        return self._do_cmd((name,) + args)

    # -- pub/sub ------------------------------------------------------------------------------

    def _note_subscription(self, res) -> None:
        """Keep the channel sets and the subscribed state in step with a (un)subscribe reply."""
        if type(res) is not list or len(res) < 3 or type(res[0]) is not bytes:
            return
        kind = _KIND.get(res[0])
        if kind is None:
            return
        names = self._channels[kind]
        if res[0] in (b"subscribe", b"psubscribe", b"ssubscribe"):
            names.add(res[1])
            self._subscribed = True
            return
        names.discard(res[1])
        message = _UNSUBSCRIBE[kind]
        if self._buffered:
            # messages of a channel just left are dropped, those of the others stay queued
            self._buffered = deque(m for m in self._buffered if not (m[0] == message and m[1] == res[1]))
        if res[2] == 0:
            if kind == "sunsubscribe":
                names.clear()
            else:
                self._channels["unsubscribe"].clear()
                self._channels["punsubscribe"].clear()
        if not any(self._channels.values()):
            self._subscribed = False
            self._buffered.clear()

    def _subscribe(self, cmd: str, args):
        res, err = self._command(cmd, args)
        if res is None or res is False:
            return res, err
        self._note_subscription(res)
        if len(args) <= 1:
            return res, None
        results = [res]
        for _ in range(len(args) - 1):
            res, err = self._read_command_reply()
            if res is None or res is False:
                return res, err
            self._note_subscription(res)
            results.append(res)
        return results, None

    def _unsubscribe(self, cmd: str, args):
        if not self._subscribed:
            return None, "not subscribed"
        expected = len(args) or max(1, len(self._channels[cmd]))
        res, err = self._command(cmd, args)
        if res is None or res is False:
            return None, err
        self._note_subscription(res)
        if expected == 1:
            return res, None
        results = [res]
        for _ in range(expected - 1):
            res, err = self._read_command_reply()
            if res is None or res is False:
                return None, err
            self._note_subscription(res)
            results.append(res)
        return results, None

    def subscribe(self, *channels: Any) -> AnyErr:
        """SUBSCRIBE: the reply, or a list of replies for several channels."""
        return self._subscribe("subscribe", channels)

    def psubscribe(self, *patterns: Any) -> AnyErr:
        """PSUBSCRIBE: the reply, or a list of replies for several patterns."""
        return self._subscribe("psubscribe", patterns)

    def ssubscribe(self, *channels: Any) -> AnyErr:
        """SSUBSCRIBE (sharded channels): the reply, or a list of replies for several channels."""
        return self._subscribe("ssubscribe", channels)

    def unsubscribe(self, *channels: Any) -> AnyErr:
        """UNSUBSCRIBE: the reply, or a list of replies; (None, "not subscribed") when not subscribed."""
        return self._unsubscribe("unsubscribe", channels)

    def punsubscribe(self, *patterns: Any) -> AnyErr:
        """PUNSUBSCRIBE: the reply, or a list of replies; (None, "not subscribed") when not subscribed."""
        return self._unsubscribe("punsubscribe", patterns)

    def sunsubscribe(self, *channels: Any) -> AnyErr:
        """SUNSUBSCRIBE: the reply, or a list of replies; (None, "not subscribed") when not subscribed."""
        return self._unsubscribe("sunsubscribe", channels)

    def read_reply(self) -> AnyErr:
        """The next pub/sub reply -> (res, None) or (None, err); (None, "not subscribed") outside pub/sub."""
        if self._sock is None:
            return None, "not initialized"
        if not self._subscribed:
            return None, "not subscribed"
        if self._buffered:
            return self._buffered.popleft(), None
        res, err = self._read_reply()
        self._note_subscription(res)
        return res, err

    # -- special commands ---------------------------------------------------------------------

    def hmset(self, hashname: Any, *args: Any) -> AnyErr:
        """HMSET with field/value arguments, or with one dict of them."""
        if len(args) == 1 and isinstance(args[0], Mapping):
            flat = []
            for field, value in args[0].items():
                flat.append(field)
                flat.append(value)
            args = tuple(flat)
        return self._command("hmset", (hashname,) + args)

    def blpop(self, *args: Any) -> AnyErr:
        """BLPOP; from now on a read timeout leaves the connection open, as upstream does."""
        self._blocking = True
        return self._command("blpop", args)

    def brpop(self, *args: Any) -> AnyErr:
        """BRPOP; from now on a read timeout leaves the connection open, as upstream does."""
        self._blocking = True
        return self._command("brpop", args)

    def array_to_hash(self, t: Sequence[Any]) -> Dict[Any, Any]:
        """[k1, v1, k2, v2, ...] -> {k1: v1, k2: v2, ...} (for HGETALL replies)."""
        return {t[i]: t[i + 1] for i in range(0, len(t) - 1, 2)}

    # -- pipelines ----------------------------------------------------------------------------

    def init_pipeline(self, n: Optional[int] = None) -> None:
        """Queue the following commands until commit_pipeline (discarding any queued ones)."""
        self._reqs = []

    def cancel_pipeline(self) -> None:
        """Drop the queued commands and leave pipeline mode; a no-op outside it."""
        self._reqs = None

    def commit_pipeline(self) -> Tuple[Optional[list], Optional[str]]:
        """Send the queued commands at once -> (list of replies, None) or (None, err).

        An error reply is the element `[False, err]`; a failed read gives (None, err) and a
        timeout closes the connection.
        """
        reqs = self._reqs
        if reqs is None:
            return None, "no pipeline"
        self._reqs = None
        sock = self._sock
        if sock is None:
            return None, "not initialized"
        sent, err = sock.send(b"".join(reqs))
        if sent is None:
            return None, err
        values = []
        for _ in range(len(reqs)):
            res, err = self._read_reply()
            if res is None:
                if err == "timeout":
                    sock.close()
                return None, err
            values.append([False, err] if res is False else res)
        return values, None


def _define_command(name: str) -> None:
    cmd = name[:-1] if name.endswith("_") else name

    def command(self, *args):
        return self._command(cmd, args)

    command.__name__ = name
    command.__qualname__ = "Redis." + name
    command.__doc__ = "The Redis %s command -> (res, err)." % cmd.upper()
    setattr(Redis, name, command)


def new() -> Tuple[Optional[Redis], Optional[str]]:
    """A Redis object on a new cosocket -> (red, None) or (None, err)."""
    return Redis(tcp.tcp()), None


def add_commands(*names: str) -> None:
    """Define methods for these command names (kept for upstream's API: every name works anyway)."""
    for name in names:
        _define_command(name)


def register_module_prefix(prefix: str) -> None:
    """`red.<prefix>().<cmd>(...)` sends `<prefix>.<cmd>`, for Redis modules (`bf` -> BF.ADD)."""

    def select_module(self):
        self._module_prefix = prefix
        return self

    select_module.__name__ = prefix
    setattr(Redis, prefix, select_module)
