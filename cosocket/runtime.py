"""Process-wide and greenlet-local state shared by the cosocket modules.

* `current_request` holds the request a greenlet works for (light threads
  inherit it; timers run with none), so `ngx.say` and friends find it.
* `worker` describes this process: its worker id, the loaded configuration,
  whether it is exiting.  Outside the server it keeps its defaults, so the
  cosocket API works in any plain gevent program.
"""
from __future__ import annotations

import os
import weakref
from contextvars import ContextVar
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, Union

from .confmodel import HttpSettings, MainConf, SocketSettings

#: The request object (cosocket.server.request.Request) the running greenlet serves.
current_request: ContextVar[Any] = ContextVar("cosocket_current_request", default=None)

#: True while the running greenlet is a timer callback (ngx.timer.*).
in_timer: ContextVar[bool] = ContextVar("cosocket_in_timer", default=False)

#: The running timer callback's own "fake request" (what its cosockets belong to); None elsewhere.
current_timer: ContextVar[Any] = ContextVar("cosocket_current_timer", default=None)


class NgxExit(BaseException):
    """Raised by `ngx.exit(status)`; unwinds the handler, thread or timer.

    Derived from BaseException so that a handler's `except Exception` does
    not swallow it, as Lua's ngx.exit cannot be caught by pcall.
    """

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class WorkerState:
    """What this process is: worker identity, configuration, exit flag."""

    def __init__(self) -> None:
        self.id: Optional[int] = None  # None outside a server worker, as ngx.worker.id() in init
        self.count: int = 1
        self.exiting: bool = False
        #: "init" / "init_worker" while those hooks run (ngx.get_phase() outside requests and timers)
        self.phase: Optional[str] = None
        self.main_conf: Optional[MainConf] = None
        self.http_settings: HttpSettings = HttpSettings()

    @property
    def pid(self) -> int:
        return os.getpid()


worker = WorkerState()


def socket_settings() -> SocketSettings:
    """The lua_socket_* settings in force here: the request's location, else the worker's http block."""
    req = current_request.get()
    if req is not None:
        return req.settings.socket
    return worker.http_settings.socket


def get_request(api: str):
    """The current request, or RuntimeError naming `api` when there is none."""
    req = current_request.get()
    if req is None:
        raise RuntimeError("%s: API not available in this context (no request)" % api)
    return req


def on_request_end(request, owned) -> None:
    """Have `owned.request_ended()` called when `request` ends (kept weakly: a dropped one is skipped)."""
    owners = getattr(request, "cosocket_owned", None)
    if owners is None:
        owners = weakref.WeakSet()
        request.cosocket_owned = owners
    owners.add(owned)


def request_ended(request) -> None:
    """`request`'s handler and light threads are done: end what it owned (sockets it connected)."""
    owners = getattr(request, "cosocket_owned", None)
    if owners:
        for owned in list(owners):
            owned.request_ended()
        owners.clear()


#: configure()'s keywords: the directive each one plays, and the SocketSettings field it sets
_SOCKET_DIRECTIVES = {
    "lua_socket_connect_timeout": "connect_timeout",
    "lua_socket_send_timeout": "send_timeout",
    "lua_socket_read_timeout": "read_timeout",
    "lua_socket_buffer_size": "buffer_size",
    "lua_socket_pool_size": "pool_size",
    "lua_socket_keepalive_timeout": "keepalive_timeout",
    "lua_socket_log_errors": "log_errors",
    "lua_ssl_trusted_certificate": "ssl_trusted_certificate",
    "lua_ssl_verify_depth": "ssl_verify_depth",
}


def configure(error_log: Union[str, Tuple[str, str], None] = None, **directives: Any) -> None:
    """Set in a plain gevent program what nginx.conf directives set in the server.

    `error_log` is `"stderr"`, a path, or `(path, level)` with nginx's level
    names (`"crit"` keeps only the worst); the other keywords are the
    directives' names with Python values: `lua_socket_log_errors=False`
    (socket errors are still returned, no longer logged),
    `lua_ssl_trusted_certificate="ca.pem"` (the CA that `sslhandshake(...,
    ssl_verify=True)` trusts), `lua_ssl_verify_depth`, and the
    `lua_socket_*` timeouts (ms), buffer and pool sizes.  An unknown name
    is a TypeError.  In a server worker the configuration file says these
    (this changes the worker's http-level values).
    """
    fields = {}
    for name, value in directives.items():
        field_name = _SOCKET_DIRECTIVES.get(name)
        if field_name is None:
            raise TypeError("configure() got an unknown directive %r" % name)
        fields[field_name] = value
    if error_log is not None:
        from . import log
        path, level = (error_log, "error") if isinstance(error_log, str) else error_log
        if path != "stderr":
            path = os.path.abspath(path)
        log.configure([(path, level)])
    socket = worker.http_settings.socket
    for field_name, value in fields.items():
        if field_name == "ssl_trusted_certificate" and value is not None:
            value = os.path.abspath(value)
        setattr(socket, field_name, value)


# --- ngx.config -------------------------------------------------------------------------

def _prefix() -> str:
    """`ngx.config.prefix()`: the server prefix with a trailing slash (the working directory outside it)."""
    conf = worker.main_conf
    path = conf.prefix if conf is not None and conf.prefix else os.getcwd()
    return path if path.endswith("/") else path + "/"


if TYPE_CHECKING:
    class _ConfigAPI:
        debug: bool
        prefix: Callable[[], str]
        nginx_version: int
        ngx_lua_version: int
        subsystem: str
    config: _ConfigAPI
else:
    config = SimpleNamespace(
        debug=False,
        prefix=_prefix,
        nginx_version=1025003,
        ngx_lua_version=10026,
        subsystem="http",
    )
