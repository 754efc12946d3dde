"""The `ngx` object: lua-nginx-module's API surface, assembled from the modules that implement it.

Each attribute is imported the first time it is used and then cached on
the object, so `from cosocket import ngx` stays cheap and a plain gevent
program that only uses `ngx.socket` never loads the HTTP server.  The
request-bound values that Lua reads and assigns as fields (`ngx.status`,
`ngx.ctx`, `ngx.header`, `ngx.var`, `ngx.headers_sent`) are properties that
look up the current request each time.
"""
from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Dict, Optional, Protocol, Tuple, Union

from . import log as _log
from .text import null

if TYPE_CHECKING:
    from . import clock, codecs, concurrency, regex, runtime, tls
    from .server import api
    from .shdict import SharedDict
    from .tcp import TCPSocket, connect as _tcp_connect, tcp as _tcp

    class _SocketAPI:
        tcp = staticmethod(_tcp)
        stream = staticmethod(_tcp)
        connect = staticmethod(_tcp_connect)

    class _SslAPI:
        parse_pem_cert = staticmethod(tls.parse_pem_cert)
        parse_pem_priv_key = staticmethod(tls.parse_pem_priv_key)

    class _SharedZones(Protocol):
        """`ngx.shared`: a zone by name or attribute; None for a name no lua_shared_dict declares."""
        def __getattr__(self, name: str) -> Optional[SharedDict]: ...
        def __getitem__(self, name: str) -> Optional[SharedDict]: ...

    class _Vars(Protocol):
        """`ngx.var`: variables as str, None when unset; integers are a regex location's captures."""
        def __getattr__(self, name: str) -> Optional[str]: ...
        def __getitem__(self, name: Union[str, int]) -> Optional[str]: ...

    class _Headers(Protocol):
        """`ngx.header`: response headers (a str, a list of str for repeated ones, or None)."""
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...
        def __getitem__(self, name: str) -> Any: ...
        def __setitem__(self, name: str, value: Any) -> None: ...
        def __delitem__(self, name: str) -> None: ...

# attribute -> (module, name in that module)
_LAZY = {
    "ssl": ("cosocket.tls", "ssl_namespace"),
    "sleep": ("cosocket.concurrency", "sleep"),
    "thread": ("cosocket.concurrency", "thread"),
    "timer": ("cosocket.concurrency", "timer"),
    "semaphore": ("cosocket.concurrency", "semaphore"),
    "worker": ("cosocket.concurrency", "worker"),
    "re": ("cosocket.regex", "re"),
    "config": ("cosocket.runtime", "config"),
    "say": ("cosocket.server.api", "say"),
    "print": ("cosocket.server.api", "print_"),
    "flush": ("cosocket.server.api", "flush"),
    "send_headers": ("cosocket.server.api", "send_headers"),
    "exit": ("cosocket.server.api", "exit"),
    "eof": ("cosocket.server.api", "eof"),
    "redirect": ("cosocket.server.api", "redirect"),
    "req": ("cosocket.server.api", "req"),
    "on_abort": ("cosocket.server.api", "on_abort"),
    "shared": ("cosocket.server.api", "shared"),
}
for _name in ("sha1_bin", "md5", "md5_bin", "encode_base64", "decode_base64", "escape_uri",
              "unescape_uri", "encode_args", "decode_args", "crc32_short", "crc32_long", "hmac_sha1",
              "quote_sql_str"):
    _LAZY[_name] = ("cosocket.codecs", _name)
for _name in ("now", "time", "update_time", "http_time", "cookie_time", "parse_http_time", "localtime",
              "utctime", "today"):
    _LAZY[_name] = ("cosocket.clock", _name)


class _Ngx:
    # Log levels (ngx.ERR ...), as lua-nginx-module numbers them.
    STDERR, EMERG, ALERT, CRIT, ERR, WARN, NOTICE, INFO, DEBUG = range(9)
    # Core status codes.
    OK = 0
    ERROR = -1
    AGAIN = -2
    DONE = -4
    DECLINED = -5
    # HTTP method constants, with lua-nginx-module's numbers (ngx.req.get_method() returns strings).
    HTTP_GET = 2
    HTTP_HEAD = 4
    HTTP_POST = 8
    HTTP_PUT = 16
    HTTP_DELETE = 32
    HTTP_OPTIONS = 512
    HTTP_MKCOL = 64
    HTTP_COPY = 128
    HTTP_MOVE = 256
    HTTP_PROPFIND = 1024
    HTTP_PROPPATCH = 2048
    HTTP_LOCK = 4096
    HTTP_UNLOCK = 8192
    HTTP_PATCH = 16384
    HTTP_TRACE = 32768
    # HTTP status codes.
    HTTP_CONTINUE = 100
    HTTP_SWITCHING_PROTOCOLS = 101
    HTTP_OK = 200
    HTTP_CREATED = 201
    HTTP_ACCEPTED = 202
    HTTP_NO_CONTENT = 204
    HTTP_PARTIAL_CONTENT = 206
    HTTP_SPECIAL_RESPONSE = 300
    HTTP_MOVED_PERMANENTLY = 301
    HTTP_MOVED_TEMPORARILY = 302
    HTTP_SEE_OTHER = 303
    HTTP_NOT_MODIFIED = 304
    HTTP_TEMPORARY_REDIRECT = 307
    HTTP_PERMANENT_REDIRECT = 308
    HTTP_BAD_REQUEST = 400
    HTTP_UNAUTHORIZED = 401
    HTTP_PAYMENT_REQUIRED = 402
    HTTP_FORBIDDEN = 403
    HTTP_NOT_FOUND = 404
    HTTP_NOT_ALLOWED = 405
    HTTP_NOT_ACCEPTABLE = 406
    HTTP_REQUEST_TIMEOUT = 408
    HTTP_CONFLICT = 409
    HTTP_GONE = 410
    HTTP_UPGRADE_REQUIRED = 426
    HTTP_TOO_MANY_REQUESTS = 429
    HTTP_CLOSE = 444
    HTTP_ILLEGAL = 451
    HTTP_INTERNAL_SERVER_ERROR = 500
    HTTP_NOT_IMPLEMENTED = 501
    HTTP_METHOD_NOT_IMPLEMENTED = 501
    HTTP_BAD_GATEWAY = 502
    HTTP_SERVICE_UNAVAILABLE = 503
    HTTP_GATEWAY_TIMEOUT = 504
    HTTP_VERSION_NOT_SUPPORTED = 505
    HTTP_INSUFFICIENT_STORAGE = 507

    null = null
    log = staticmethod(_log.ngx_log)

    if TYPE_CHECKING:
        # What __getattr__ loads, as type checkers and editors see it.
        socket: _SocketAPI
        ssl: _SslAPI
        sleep = staticmethod(concurrency.sleep)
        thread = concurrency.thread
        timer = concurrency.timer
        semaphore = concurrency.semaphore
        worker = concurrency.worker
        re = regex.re
        config = runtime.config
        say = staticmethod(api.say)
        print = staticmethod(api.print_)
        flush = staticmethod(api.flush)
        send_headers = staticmethod(api.send_headers)
        exit = staticmethod(api.exit)
        eof = staticmethod(api.eof)
        redirect = staticmethod(api.redirect)
        req = api.req
        on_abort = staticmethod(api.on_abort)
        shared: _SharedZones
        sha1_bin = staticmethod(codecs.sha1_bin)
        md5 = staticmethod(codecs.md5)
        md5_bin = staticmethod(codecs.md5_bin)
        encode_base64 = staticmethod(codecs.encode_base64)
        decode_base64 = staticmethod(codecs.decode_base64)
        escape_uri = staticmethod(codecs.escape_uri)
        unescape_uri = staticmethod(codecs.unescape_uri)
        encode_args = staticmethod(codecs.encode_args)
        decode_args = staticmethod(codecs.decode_args)
        crc32_short = staticmethod(codecs.crc32_short)
        crc32_long = staticmethod(codecs.crc32_long)
        hmac_sha1 = staticmethod(codecs.hmac_sha1)
        quote_sql_str = staticmethod(codecs.quote_sql_str)
        now = staticmethod(clock.now)
        time = staticmethod(clock.time)
        update_time = staticmethod(clock.update_time)
        http_time = staticmethod(clock.http_time)
        cookie_time = staticmethod(clock.cookie_time)
        parse_http_time = staticmethod(clock.parse_http_time)
        localtime = staticmethod(clock.localtime)
        utctime = staticmethod(clock.utctime)
        today = staticmethod(clock.today)

    @staticmethod
    def get_phase() -> str:
        """`ngx.get_phase()`: "init", "init_worker", "content", "timer", or "init" outside the server."""
        from . import runtime
        if runtime.in_timer.get():
            return "timer"
        if runtime.current_request.get() is not None:
            return "content"
        return runtime.worker.phase or "init"

    def __init__(self) -> None:
        self.__dict__["socket"] = SimpleNamespace(tcp=_socket_tcp, stream=_socket_tcp, connect=_socket_connect)

    def __dir__(self) -> list[str]:
        """Everything `ngx.` completes: the constants, the fields and the lazily imported calls."""
        return sorted(set(super().__dir__()) | set(_LAZY))

    def __getattr__(self, name: str) -> Any:
        try:
            module_name, attr = _LAZY[name]
        except KeyError:
            raise AttributeError("ngx has no field %r" % name) from None
        value = getattr(importlib.import_module(module_name), attr)
        self.__dict__[name] = value
        return value

    # Request-bound fields -------------------------------------------------
    @property
    def status(self) -> int:
        return _rq().get_status()

    @status.setter
    def status(self, value: int) -> None:
        _rq().set_status(value)

    @property
    def headers_sent(self) -> bool:
        return _rq().headers_sent()

    @property
    def header(self) -> _Headers:
        return _rq().header

    @property
    def var(self) -> _Vars:
        return _rq().var

    @property
    def ctx(self) -> Dict[Any, Any]:
        return _rq().get_ctx()

    @ctx.setter
    def ctx(self, value: Dict[Any, Any]) -> None:
        _rq().set_ctx(value)

    def __repr__(self) -> str:
        return "<ngx>"


_request_module = None


def _rq():
    """cosocket.server.api (the request API), imported on first use (it imports this module) and then kept."""
    global _request_module
    if _request_module is None:
        from .server import api as request
        _request_module = request
    return _request_module


def _socket_tcp() -> TCPSocket:
    from .tcp import tcp
    return tcp()


def _socket_connect(*args: Any, **kwargs: Any) -> Tuple[Optional[TCPSocket], Optional[str]]:
    from .tcp import connect
    return connect(*args, **kwargs)


ngx = _Ngx()
