"""nginx-style configuration: the directive table, from the words of a file to `MainConf`.

    main = load("/p/conf/nginx.conf", "/p", extra_directives="daemon off;")

The words come from `conflex.Lexer` (nginx's syntax); errors read as `nginx
-t` prints them.  As in nginx, the `-g` directives are parsed before the
file, so setting one of them again in the file is "duplicate".

What each block wrote is kept by `confstate`, which merges it into the model.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ..confmodel import LOG_LEVELS, AccessLogConf, ErrorLogConf, HandlerConf, ListenConf, MainConf, ResolverConf
from .conflex import BLOCK_DONE, BLOCK_START, FILE_DONE, OK, ConfError, Lexer, parse_size, parse_time
from .confstate import Ctx, Level, RawHttp, RawLocation, RawServer, finish

__all__ = ["ConfError", "load", "parse_time", "parse_size"]


class _Rejected(Exception):
    """Raised by a value parser: nginx's `"name" directive <reason>` (e.g. "invalid value")."""


def _number(text: str) -> int:
    """A non-negative decimal integer (nginx's ngx_atoi); raises ValueError."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValueError(text)
    return int(text)


def _port(text: str) -> Optional[int]:
    """1..65535, or None."""
    try:
        port = _number(text)
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


@dataclass
class _Directive:
    contexts: frozenset
    nargs: object  # tuple of allowed argument counts, or ("min", n)
    handler: Callable
    block: bool = False


_TABLE: Dict[str, _Directive] = {}


def _directive(names, contexts: str, nargs=(1,), block: bool = False):
    """Register the decorated handler `fn(parser, ctx, name, args)` for `names` in `contexts`."""
    def register(fn):
        for name in names.split():
            _TABLE[name] = _Directive(frozenset(contexts.split()), nargs, fn, block)
        return fn
    return register


# --------------------------------------------------------------------------- the parser

_MAX_INCLUDE_DEPTH = 32


class _Parser:
    def __init__(self, conf_file: str, prefix: str, dump: Optional[list]):
        self.conf_file = conf_file
        self.conf_dir = os.path.dirname(conf_file)
        self.prefix = prefix
        self.dump = dump
        self.main = MainConf(prefix=prefix, conf_file=conf_file)
        self.main_seen: set = set()
        self.http: Optional[RawHttp] = None
        self.events_seen = False
        self.listen_keys: Dict[str, Tuple[bool, bool]] = {}  # key -> (options set, default_server)
        self.lexer: Optional[Lexer] = None
        self.depth = 0  # files being read (the conf file and its includes)

    # errors and paths ----------------------------------------------------------

    def error(self, msg: str) -> ConfError:
        return self.lexer.error(msg)

    def prefix_path(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.prefix, path))

    def conf_path(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.conf_dir, path))

    # reading -------------------------------------------------------------------

    def parse_param(self, text: str) -> None:
        """The -g string: main-context directives, no blocks."""
        self._run(Lexer(text, None), Ctx("main"), "param")

    def parse_file(self, path: str, ctx: Ctx) -> None:
        if self.depth >= _MAX_INCLUDE_DEPTH:
            raise self.error('too deep nesting of includes, "%s" not read' % path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (OSError, ValueError) as e:  # ValueError: a NUL byte in the name
            errno = getattr(e, "errno", None) or 2
            msg = 'open() "%s" failed (%d: %s)' % (path, errno, os.strerror(errno))
            if self.lexer is None:
                raise ConfError(msg, where=False)
            raise self.error(msg)
        text = data.decode("utf-8", "surrogateescape")
        if self.dump is not None:
            self.dump.append((path, text))
        self.depth += 1
        try:
            self._run(Lexer(text, path), ctx, "file")
        finally:
            self.depth -= 1

    def _run(self, lexer: Lexer, ctx: Ctx, kind: str) -> None:
        saved, self.lexer = self.lexer, lexer
        try:
            self._block(ctx, kind)
        finally:
            self.lexer = saved

    def _block(self, ctx: Ctx, kind: str) -> None:
        """Read directives until the end of this block ("block") or input ("file", "param")."""
        lexer = self.lexer
        while True:
            args, end = lexer.next()
            if end == BLOCK_DONE:
                if kind != "block":
                    raise self.error('unexpected "}"')
                return
            if end == FILE_DONE:
                if kind == "block":
                    raise self.error('unexpected end of file, expecting "}"')
                return
            if end == BLOCK_START and kind == "param":
                raise self.error("block directives are not supported in -g option")
            if ctx.kind == "types":
                self._types_entry(ctx, args, end)
                continue
            self._handle(ctx, args, end)

    def _types_entry(self, ctx: Ctx, args: List[str], end: str) -> None:
        """Inside `types { }`: entries `type ext...;` are accepted and ignored; `include` works."""
        if end == BLOCK_START:
            raise self.error('unexpected "{"')
        if args[0] == "include":
            if len(args) != 2:
                raise self.error('invalid number of arguments in "include" directive')
            _include(self, ctx, "include", args[1:])
        elif len(args) < 2:
            raise self.error('invalid number of arguments in "%s" directive' % args[0])

    def _handle(self, ctx: Ctx, args: List[str], end: str) -> None:
        name = args[0]
        d = _TABLE.get(name)
        if d is None:
            raise self.error('unknown directive "%s"' % name)
        if ctx.kind not in d.contexts:
            raise self.error('"%s" directive is not allowed here' % name)
        if not d.block and end != OK:
            raise self.error('directive "%s" is not terminated by ";"' % name)
        if d.block and end != BLOCK_START:
            raise self.error('directive "%s" has no opening "{"' % name)
        count = len(args) - 1
        if isinstance(d.nargs, tuple) and d.nargs and d.nargs[0] == "min":
            ok = count >= d.nargs[1]
        else:
            ok = count in d.nargs
        if not ok:
            raise self.error('invalid number of arguments in "%s" directive' % name)
        try:
            d.handler(self, ctx, name, args[1:])
        except _Rejected as e:
            raise self.error('"%s" directive %s' % (name, e))

    # helpers for handlers ----------------------------------------------------------

    def main_once(self, name: str) -> None:
        if name in self.main_seen:
            raise _Rejected("is duplicate")
        self.main_seen.add(name)


def _set_level(ctx: Ctx, key: str, value) -> None:
    values = ctx.level.values
    if key in values:
        raise _Rejected("is duplicate")
    values[key] = value


def _time_value(text: str) -> int:
    try:
        return parse_time(text)
    except ValueError:
        raise _Rejected("invalid value") from None


def _size_value(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError:
        raise _Rejected("invalid value") from None


def _num_value(text: str) -> int:
    try:
        return _number(text)
    except ValueError:
        raise _Rejected("invalid number") from None


def _flag_value(p: _Parser, name: str, text: str) -> bool:
    low = text.lower()
    if low == "on":
        return True
    if low == "off":
        return False
    raise p.error('invalid value "%s" in "%s" directive, it must be "on" or "off"' % (text, name))


def _enum_value(p: _Parser, text: str, allowed) -> str:
    low = text.lower()
    if low not in allowed:
        raise p.error('invalid value "%s"' % text)
    return low


HTTP_ANY = "http server location"
HTTP_SRV = "http server"


def _level_setting(names: str, contexts: str, key: str, parse, nargs=(1,)):
    """A directive storing one parsed value into the block's settings under `key`."""
    def handler(p: _Parser, ctx: Ctx, name: str, args: List[str]) -> None:
        _set_level(ctx, key, parse(p, name, args))
    _directive(names, contexts, nargs)(handler)


# --------------------------------------------------------------------------- main context

@_directive("include", "main events http server location types")
def _include(p: _Parser, ctx: Ctx, name: str, args: List[str]) -> None:
    path = p.conf_path(args[0])
    if not any(c in path for c in "*?["):
        p.parse_file(path, ctx)
        return
    try:
        matches = sorted(glob.glob(path))
    except ValueError:  # a NUL byte
        matches = []
    for match in matches:
        if os.path.isfile(match):
            p.parse_file(match, ctx)


@_directive("worker_processes", "main")
def _worker_processes(p, ctx, name, args):
    p.main_once(name)
    if args[0] == "auto":
        p.main.worker_processes = os.cpu_count() or 1
        return
    try:
        p.main.worker_processes = _number(args[0])
    except ValueError:
        raise _Rejected("invalid value") from None


@_directive("daemon", "main")
def _daemon(p, ctx, name, args):
    p.main_once(name)
    p.main.daemon = _flag_value(p, name, args[0])


@_directive("pid", "main")
def _pid(p, ctx, name, args):
    p.main_once(name)
    p.main.pid = p.prefix_path(args[0])


@_directive("error_log", "main", nargs=("min", 1))
def _error_log(p, ctx, name, args):
    path = args[0]
    if path.startswith("syslog:") or path.startswith("memory:"):
        raise p.error('"%s" is not supported, use a file or "stderr"' % path.split(":", 1)[0])
    level = "error"
    if len(args) > 2:
        raise p.error('duplicate log level "%s"' % args[2])
    if len(args) == 2:
        if args[1] not in LOG_LEVELS[1:]:
            raise p.error('invalid log level "%s"' % args[1])
        level = args[1]
    if path != "stderr":
        path = p.prefix_path(path)
    p.main.error_log.append(ErrorLogConf(path=path, level=level))


@_directive("worker_shutdown_timeout", "main")
def _worker_shutdown_timeout(p, ctx, name, args):
    p.main_once(name)
    p.main.worker_shutdown_timeout = _time_value(args[0])


@_directive("worker_rlimit_nofile", "main")
def _worker_rlimit_nofile(p, ctx, name, args):
    p.main_once(name)
    p.main.worker_rlimit_nofile = _num_value(args[0])


@_directive("user", "main", nargs=(1, 2))
def _user(p, ctx, name, args):
    p.main_once(name)  # accepted, no effect: workers keep the master's user


@_directive("python_path", "main http")
def _python_path(p, ctx, name, args):
    p.main_once(name)
    entries: List[str] = []
    for part in re.split(r"(;;)", args[0]):
        if part == ";;":
            entries.append(";;")
            continue
        for entry in part.split(";"):
            if entry:
                entries.append(entry if os.path.isabs(entry) else p.prefix_path(entry))
    p.main.python_path = entries


_FUNC_REF = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")


def _func_ref(p: _Parser, name: str, text: str) -> str:
    if not _FUNC_REF.match(text):
        raise p.error('invalid value "%s" in "%s" directive, it must be "module:function"' % (text, name))
    return text


@_directive("init_by_python init_worker_by_python", "main http")
def _init_by(p, ctx, name, args):
    p.main_once(name)
    setattr(p.main, name, _func_ref(p, name, args[0]))


@_directive("events", "main", nargs=(0,), block=True)
def _events(p, ctx, name, args):
    if p.events_seen:
        raise _Rejected("is duplicate")
    p.events_seen = True
    p._block(Ctx("events"), "block")


@_directive("worker_connections", "events")
def _worker_connections(p, ctx, name, args):
    p.main_once(name)
    try:
        p.main.worker_connections = _number(args[0])
    except ValueError:
        raise p.error('invalid number "%s"' % args[0]) from None


@_directive("multi_accept accept_mutex", "events")
def _event_flags(p, ctx, name, args):
    p.main_once(name)
    _flag_value(p, name, args[0])  # accepted, no effect


@_directive("use", "events")
def _use(p, ctx, name, args):
    p.main_once(name)
    if args[0] not in ("epoll", "poll", "select", "kqueue", "eventport", "/dev/poll"):
        raise p.error('invalid event type "%s"' % args[0])


# --------------------------------------------------------------------------- http blocks

@_directive("http", "main", nargs=(0,), block=True)
def _http(p, ctx, name, args):
    if p.http is not None:
        raise _Rejected("is duplicate")
    p.http = RawHttp()
    p._block(Ctx("http", http=p.http), "block")


@_directive("server", "http", nargs=(0,), block=True)
def _server(p, ctx, name, args):
    server = RawServer(level=Level(), file=p.lexer.name, line=p.lexer.line)
    ctx.http.servers.append(server)
    p._block(Ctx("server", http=ctx.http, server=server), "block")


@_directive("location", "server location", nargs=(1, 2), block=True)
def _location(p, ctx, name, args):
    if len(args) == 2:
        modifier, pattern = args
        if modifier not in ("=", "~", "~*", "^~"):
            raise p.error('invalid location modifier "%s"' % modifier)
    else:
        text = args[0]
        if text.startswith("@"):
            raise p.error('named location "%s" is not supported' % text)
        for modifier in ("~*", "^~", "=", "~"):
            if text.startswith(modifier) and len(text) > len(modifier):
                pattern = text[len(modifier):]
                break
        else:
            modifier, pattern = "", text
    if ctx.location is not None:
        raise p.error('location "%s" cannot be inside location "%s" (nested locations are not supported)'
                      % (pattern, ctx.location.pattern))
    if modifier in ("~", "~*"):
        try:
            re.compile(pattern, re.IGNORECASE if modifier == "~*" else 0)
        except re.error as e:
            raise p.error('pcre2_compile() failed: %s in "%s"' % (e.msg, pattern)) from None
    loc = RawLocation(modifier=modifier, pattern=pattern, level=Level(), file=p.lexer.name, line=p.lexer.line)
    ctx.server.locations.append(loc)
    p._block(Ctx("location", http=ctx.http, server=ctx.server, location=loc), "block")


@_directive("types", HTTP_ANY, nargs=(0,), block=True)
def _types(p, ctx, name, args):
    p._block(Ctx("types", http=ctx.http, server=ctx.server, location=ctx.location), "block")


@_directive("listen", "server", nargs=("min", 1))
def _listen(p, ctx, name, args):
    conf = _parse_listen_address(p, args[0])
    options_set = False
    for param in args[1:]:
        if param == "ssl":
            conf.ssl = True
        elif param == "reuseport":
            conf.reuseport = options_set = True
        elif param in ("default_server", "default"):
            conf.default_server = True
        elif param.startswith("backlog="):
            value = param[8:]
            try:
                conf.backlog = _number(value)
            except ValueError:
                conf.backlog = 0
            if conf.backlog == 0:
                raise p.error('invalid backlog "%s"' % value)
            options_set = True
        elif param in ("bind", "deferred") or param.split("=", 1)[0] in ("rcvbuf", "sndbuf", "ipv6only",
                                                                          "so_keepalive"):
            options_set = True  # accepted, no effect
        else:
            raise p.error('invalid parameter "%s"' % param)
    key = conf.key
    for other, _, _, _ in ctx.server.listens:
        if other.key == key:
            raise p.error("a duplicate listen %s" % key)
    seen = p.listen_keys.get(key)
    if seen is not None:
        if options_set and seen[0]:
            raise p.error("duplicate listen options for %s" % key)
        if conf.default_server and seen[1]:
            raise p.error("a duplicate default server for %s" % key)
        options_set, default = options_set or seen[0], conf.default_server or seen[1]
        p.listen_keys[key] = (options_set, default)
    else:
        p.listen_keys[key] = (options_set, conf.default_server)
    ctx.server.listens.append((conf, p.lexer.name, p.lexer.line, options_set))


def _parse_listen_address(p: _Parser, text: str) -> ListenConf:
    def bad(what: str) -> ConfError:
        return p.error('%s in "%s" of the "listen" directive' % (what, text))

    if text.startswith("unix:"):
        path = text[5:]
        if not path:
            raise bad("no path in the unix domain socket")
        return ListenConf(unix=p.prefix_path(path))
    host: Optional[str]
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise bad("invalid host")
        host, rest = text[1:end], text[end + 1:]
        if not host or ":" not in host:
            raise bad("invalid IPv6 address")
        if rest and not rest.startswith(":"):
            raise bad("invalid host")
        port_text = rest[1:] if rest else None
    elif ":" in text:
        host, port_text = text.rsplit(":", 1)
        if not host:
            raise bad("no host")
    elif text.isascii() and text.isdigit():
        host, port_text = None, text
    else:
        host, port_text = text, None
    if host == "*":
        host = None
    if host is not None and not re.match(r"[A-Za-z0-9.:_-]+\Z", host):
        raise bad("invalid host")
    if port_text is None:
        port = 80
    else:
        port = _port(port_text)
        if port is None:
            raise bad("invalid port")
    return ListenConf(host=host, port=port)


@_directive("server_name", "server", nargs=("min", 1))
def _server_name(p, ctx, name, args):
    for server_name in args:
        if server_name.startswith("~"):
            if len(server_name) == 1:
                raise p.error('empty regex in server name "%s"' % server_name)
            try:
                re.compile(server_name[1:])
            except re.error as e:
                raise p.error('pcre2_compile() failed: %s in "%s"' % (e.msg, server_name[1:])) from None
        elif "/" in server_name:
            raise p.error('server name "%s" is invalid' % server_name)
        ctx.server.names.append(server_name.lower() if not server_name.startswith("~") else server_name)


_REDIRECT_CODES = (301, 302, 303, 307, 308)


@_directive("return", "server location", nargs=(1, 2))
def _return(p, ctx, name, args):
    target = ctx.location or ctx.server
    if len(args) == 1 and (args[0].startswith(("http://", "https://", "$scheme"))):
        value = (302, args[0])
    else:
        try:
            code = _number(args[0])
        except ValueError:
            code = 1000
        if code > 999:
            raise p.error('invalid return code "%s"' % args[0])
        value = (code, args[1] if len(args) == 2 else None)
    if target.return_ is None:  # like the rewrite module, the first `return` is the one that runs
        target.return_ = value


@_directive("content_by_python_file content_by_python", "location")
def _content_by(p, ctx, name, args):
    if ctx.location.handler is not None:
        raise _Rejected("is duplicate")
    if name == "content_by_python":
        kind, target = "function", _func_ref(p, name, args[0])
    else:
        # a path starting with a variable is made absolute once expanded (handlers.expand_path)
        kind, target = "file", args[0] if args[0].startswith("$") else p.prefix_path(args[0])
    ctx.location.handler = HandlerConf(kind=kind, target=target, file=p.lexer.name, line=p.lexer.line)


@_directive("lua_shared_dict", "http", nargs=(2,))
def _shared_dict(p, ctx, name, args):
    dict_name, size_text = args
    if not dict_name:
        raise p.error('invalid lua shared dict name "%s"' % dict_name)
    try:
        size = parse_size(size_text)
    except ValueError:
        size = 0
    if size <= 8191:
        raise p.error('invalid lua shared dict size "%s"' % size_text)
    for other, other_size in ctx.http.shared_dicts:
        if other == dict_name:
            raise p.error('lua_shared_dict "%s" is already defined as "%s"' % (dict_name, other))
    ctx.http.shared_dicts.append((dict_name, size))


# --------------------------------------------------------------------------- channels

@_directive("channels", "http")
def _channels(p, ctx, name, args):
    value = args[0]
    if value != "embedded" and not value.startswith(("redis://", "rediss://", "redis+unix://")):
        raise p.error('invalid value "%s" in "channels" directive, it must be "embedded" or a '
                      'redis://, rediss:// or redis+unix:// URL' % value)
    _channels_set(p, ctx, name, value)


@_directive("channels_history", "http", nargs=(1, 2))
def _channels_history(p, ctx, name, args):
    try:
        count = _number(args[0])
        ms = parse_time(args[1]) if len(args) > 1 else 0
    except ValueError:
        raise p.error('invalid value "%s" in "channels_history" directive' % " ".join(args)) from None
    _channels_set(p, ctx, name, (count, ms))


@_directive("channels_message_max channels_queue_size", "http")
def _channels_size(p, ctx, name, args):
    try:
        size = parse_size(args[0])
    except ValueError:
        size = 0
    if size <= 0:
        raise p.error('invalid value "%s" in "%s" directive' % (args[0], name))
    _channels_set(p, ctx, name, size)


@_directive("channels_socket", "http")
def _channels_socket(p, ctx, name, args):
    _channels_set(p, ctx, name, p.prefix_path(args[0]))


@_directive("channels_sharded", "http")
def _channels_sharded(p, ctx, name, args):
    _channels_set(p, ctx, name, _flag_value(p, name, args[0]))


def _channels_set(p, ctx, name, value) -> None:
    if name in ctx.http.channels:
        raise p.error('"%s" directive is duplicate' % name)
    ctx.http.channels[name] = value
    ctx.http.channels.setdefault("", (name, p.lexer.name, p.lexer.line))  # where the first one is


@_directive("access_log", HTTP_ANY, nargs=("min", 1))
def _access_log(p, ctx, name, args):
    level = ctx.level
    if args[0] == "off":
        if len(args) > 1:
            raise p.error('invalid parameter "%s"' % args[1])
        level.access_off = True
        return
    fmt = "combined"
    if len(args) > 1:
        fmt = args[1]
        if fmt != "combined":
            raise p.error('unknown log format "%s"' % fmt)
    for param in args[2:]:
        if not param.startswith(("buffer=", "flush=", "gzip", "if=")):
            raise p.error('invalid parameter "%s"' % param)
    level.access_logs.append(AccessLogConf(path=p.prefix_path(args[0]), format=fmt))


@_directive("keepalive_timeout", HTTP_ANY, nargs=(1, 2))
def _keepalive_timeout(p, ctx, name, args):
    value = _time_value(args[0])
    if len(args) == 2:
        _time_value(args[1])  # the "Keep-Alive: timeout=" header value: checked, not sent
    _set_level(ctx, "keepalive_timeout", value)


@_directive("resolver", HTTP_ANY, nargs=("min", 1))
def _resolver(p, ctx, name, args):
    conf = ResolverConf()
    for arg in args:
        if arg.startswith("valid="):
            try:
                conf.valid = parse_time(arg[6:])
            except ValueError:
                raise p.error("invalid parameter: %s" % arg) from None
        elif arg.startswith(("ipv4=", "ipv6=")):
            value = arg[5:]
            if value not in ("on", "off"):
                raise p.error("invalid parameter: %s" % arg)
            setattr(conf, arg[:4], value == "on")
        elif arg.startswith("status_zone="):
            pass
        else:
            conf.servers.append(_resolver_address(p, arg))
    if not conf.ipv4 and not conf.ipv6:
        raise p.error('"ipv4" and "ipv6" cannot both be "off"')
    if not conf.servers:
        raise p.error("no name servers defined")
    _set_level(ctx, "socket.resolver", conf)


def _resolver_address(p: _Parser, text: str) -> Tuple[str, int]:
    def bad(what: str) -> ConfError:
        return p.error('%s in resolver "%s"' % (what, text))

    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise bad("invalid host")
        host, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            raise bad("invalid host")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise bad("no host")
    port = 53
    if port_text or text.endswith(":"):
        port = _port(port_text)
        if port is None:
            raise bad("invalid port")
    return host, port


def _p_time(p, name, args):
    return _time_value(args[0])


def _p_size(p, name, args):
    return _size_value(args[0])


def _p_num(p, name, args):
    return _num_value(args[0])


def _p_flag(p, name, args):
    return _flag_value(p, name, args[0])


def _p_str(p, name, args):
    return args[0]


def _p_conf_path(p, name, args):
    return p.conf_path(args[0])


def _p_large_buffers(p, name, args):
    try:
        number = _number(args[0])
        size = parse_size(args[1])
    except ValueError:
        raise _Rejected("invalid value") from None
    if number == 0 or size == 0:
        raise _Rejected("invalid value")
    return (number, size)


_level_setting("keepalive_requests", HTTP_ANY, "keepalive_requests", _p_num)
_level_setting("send_timeout", HTTP_ANY, "send_timeout", _p_time)
_level_setting("client_header_timeout", HTTP_SRV, "client_header_timeout", _p_time)
_level_setting("client_body_timeout", HTTP_ANY, "client_body_timeout", _p_time)
_level_setting("client_max_body_size", HTTP_ANY, "client_max_body_size", _p_size)
_level_setting("client_header_buffer_size", HTTP_SRV, "client_header_buffer_size", _p_size)
_level_setting("large_client_header_buffers", HTTP_SRV, "large_client_header_buffers", _p_large_buffers,
               nargs=(2,))
_level_setting("server_tokens", HTTP_ANY, "server_tokens",
               lambda p, name, args: _enum_value(p, args[0], ("on", "off", "build")) != "off")
_level_setting("lingering_close", HTTP_ANY, "lingering_close",
               lambda p, name, args: _enum_value(p, args[0], ("on", "off", "always")))
_level_setting("lingering_timeout", HTTP_ANY, "lingering_timeout", _p_time)
_level_setting("default_type", HTTP_ANY, "default_type", _p_str)
_level_setting("lua_check_client_abort", HTTP_ANY, "lua_check_client_abort", _p_flag)


def _p_code_cache(p, name, args):
    on = _flag_value(p, name, args[0])
    if not on:
        p.main.alerts.append("%s is off; this will hurt performance in %s:%d" % (name, p.lexer.name, p.lexer.line))
    return on


_level_setting("python_code_cache", HTTP_ANY, "python_code_cache", _p_code_cache)
_level_setting("resolver_timeout", HTTP_ANY, "socket.resolver_timeout", _p_time)
_level_setting("lua_socket_connect_timeout", HTTP_ANY, "socket.connect_timeout", _p_time)
_level_setting("lua_socket_send_timeout", HTTP_ANY, "socket.send_timeout", _p_time)
_level_setting("lua_socket_read_timeout", HTTP_ANY, "socket.read_timeout", _p_time)
_level_setting("lua_socket_buffer_size", HTTP_ANY, "socket.buffer_size", _p_size)
_level_setting("lua_socket_pool_size", HTTP_ANY, "socket.pool_size", _p_num)
_level_setting("lua_socket_keepalive_timeout", HTTP_ANY, "socket.keepalive_timeout", _p_time)
_level_setting("lua_socket_log_errors", HTTP_ANY, "socket.log_errors", _p_flag)
_level_setting("lua_ssl_trusted_certificate", HTTP_ANY, "socket.ssl_trusted_certificate", _p_conf_path)
_level_setting("lua_ssl_verify_depth", HTTP_ANY, "socket.ssl_verify_depth", _p_num)


def _ssl_setting(names: str, key: str, parse, nargs=(1,)):
    def handler(p: _Parser, ctx: Ctx, name: str, args: List[str]) -> None:
        ssl = ctx.level.ssl
        if key in ssl and key not in ("certificate", "certificate_key"):
            raise _Rejected("is duplicate")
        ssl[key] = parse(p, name, args)  # a second certificate replaces the first (one per server here)
    _directive(names, HTTP_SRV, nargs)(handler)


_SSL_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def _p_protocols(p, name, args):
    for proto in args:
        if proto not in _SSL_PROTOCOLS:
            raise p.error('invalid value "%s"' % proto)
    return list(dict.fromkeys(args))


_ssl_setting("ssl_certificate", "certificate", _p_conf_path)
_ssl_setting("ssl_certificate_key", "certificate_key", _p_conf_path)
_ssl_setting("ssl_client_certificate", "client_certificate", _p_conf_path)
_ssl_setting("ssl_verify_client", "verify_client",
             lambda p, name, args: _enum_value(p, args[0], ("on", "off", "optional", "optional_no_ca")))
_ssl_setting("ssl_verify_depth", "verify_depth", _p_num)
_ssl_setting("ssl_protocols", "protocols", _p_protocols, nargs=("min", 1))


# --------------------------------------------------------------------------- entry point

def load(conf_file: str, prefix: str, extra_directives: str = "", *, dump: Optional[list] = None) -> MainConf:
    """Read `conf_file` (relative paths are taken under `prefix`) into a merged `MainConf`.

    `extra_directives` is the `-g` string, parsed first as main-context directives.
    `dump`, when a list, receives `(path, text)` for every file read (for `-T`).
    Raises `ConfError` with nginx's message text.
    """
    if not isinstance(conf_file, str) or not isinstance(prefix, str) or not isinstance(extra_directives, str):
        raise TypeError("conf_file, prefix and extra_directives must be str")
    prefix = os.path.abspath(prefix)
    conf_file = os.path.normpath(os.path.join(prefix, conf_file))
    parser = _Parser(conf_file, prefix, dump)
    if extra_directives:
        parser.parse_param(extra_directives)
    parser.parse_file(conf_file, Ctx("main"))
    return finish(parser)
