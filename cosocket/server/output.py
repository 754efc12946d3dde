"""The ngx output and response API: ngx.say/print/flush/eof/exit/redirect, ngx.status, ngx.ctx, ngx.header.

Each call finds the current request through `runtime.current_request` and
acts on its `Request` (cosocket.server.request).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NoReturn, Optional, Tuple, Union

from .. import log, runtime
from ..runtime import NgxExit
from ..text import say_bytes
from .request import Request, canonical_name

# ---------------------------------------------------------------------------
# The ngx.* functions

def _req(api: str) -> Request:
    return runtime.get_request(api)


def say(*args: Any) -> Tuple[Optional[int], Optional[str]]:
    """ngx.say(...): the arguments joined, then a newline; (1, None) or (None, err)."""
    r = _req("ngx.say")
    return r.output(say_bytes(args, "say") + b"\n")


def print_(*args: Any) -> Tuple[Optional[int], Optional[str]]:
    """ngx.print(...): the arguments joined; (1, None) or (None, err)."""
    r = _req("ngx.print")
    return r.output(say_bytes(args, "print"))


def flush(wait: bool = False) -> Tuple[Optional[int], Optional[str]]:
    """ngx.flush(wait): send the head and buffered output now (writes are synchronous, so wait is implied)."""
    if not isinstance(wait, bool):
        raise TypeError("bad argument #1 to 'flush' (boolean expected, got %s)" % type(wait).__name__)
    return _req("ngx.flush").flush(wait)


def send_headers() -> Tuple[Optional[int], Optional[str]]:
    """ngx.send_headers(): send the response head now (HTTP/1.1 bodies then go chunked)."""
    r = _req("ngx.send_headers")
    if r.headers_sent:
        return 1, None  # as lua-nginx-module: sending an already sent head is a no-op that succeeds
    if not r.send_head(complete=False):
        return None, "nginx output filter error"
    return 1, None


def exit(status: int) -> NoReturn:  # noqa: A001 - the Lua name
    """ngx.exit(status): end the handler (or light thread / timer); never returns."""
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError("bad argument #1 to 'exit' (number expected, got %s)" % type(status).__name__)
    if runtime.current_request.get() is None and not runtime.in_timer.get():
        raise RuntimeError("ngx.exit: API not available in this context (no request)")
    raise NgxExit(status)


def eof() -> Tuple[Optional[int], Optional[str]]:
    """ngx.eof(): finish the response body while the handler keeps running."""
    return _req("ngx.eof").send_eof()


_REDIRECT_CODES = (301, 302, 303, 307, 308)


def redirect(uri: Union[str, bytes], status: int = 302) -> NoReturn:
    """ngx.redirect(uri, status=302): a redirect page with Location; ends the handler."""
    if not isinstance(uri, (str, bytes)):
        raise TypeError("bad argument #1 to 'redirect' (string expected)")
    if status not in _REDIRECT_CODES:
        raise RuntimeError("only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, "
                           "ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and "
                           "ngx.HTTP_TEMPORARY_REDIRECT are allowed")
    r = _req("ngx.redirect")
    if r.headers_sent or r.seen_body:
        raise RuntimeError("attempt to call ngx.redirect after sending out the headers")
    if isinstance(uri, bytes):
        uri = uri.decode("latin-1")
    for ch in uri:
        if ch in "\r\n" or ord(ch) < 0x20 or ord(ch) == 0x7f:
            raise RuntimeError('unsafe byte "0x%02x" in redirect uri "%s"' % (ord(ch), uri.encode(
                "unicode_escape").decode()))
    r.out_headers.set("Location", uri)
    raise NgxExit(status)


def headers_sent() -> bool:
    """ngx.headers_sent."""
    r = _req("ngx.headers_sent")
    return r.headers_sent or r.seen_body  # nginx sends the head with the first output


def get_status() -> int:
    """ngx.status (0 until set or sent, as nginx's r->headers_out.status)."""
    return _req("ngx.status").status


def set_status(value: int) -> None:
    """ngx.status = value; after the head is sent this only logs an error, as nginx."""
    r = _req("ngx.status")
    if r.headers_sent or r.seen_body:  # nginx sends the head with the first output
        log.error(log.ERR, "attempt to set ngx.status after sending out response headers")
        return
    try:
        status = int(value)
    except (TypeError, ValueError):
        raise TypeError("bad argument to 'ngx.status' (number expected)") from None
    if status < 100 or status > 999:
        log.error(log.ERR, "invalid HTTP status code %d" % status)
        return
    r.status = status


def get_ctx() -> Dict[Any, Any]:
    """ngx.ctx: a dict per request."""
    return _req("ngx.ctx").ctx


def set_ctx(value: Dict[Any, Any]) -> None:
    """ngx.ctx = table."""
    if not isinstance(value, dict):
        raise TypeError("bad argument to 'ngx.ctx' (table expected)")
    _req("ngx.ctx").ctx = value


def on_abort(fn: Callable[[], Any]) -> Tuple[Optional[int], Optional[str]]:
    """ngx.on_abort(fn): run fn in a light thread when the client closes (lua_check_client_abort on)."""
    if not callable(fn):
        raise TypeError("bad argument #1 to 'on_abort' (function expected)")
    r = _req("ngx.on_abort")
    if r.abort_handler is not None:
        return None, "duplicate call"
    if not r.settings.lua_check_client_abort:
        return None, "lua_check_client_abort is off"
    r.abort_handler = fn
    watch = getattr(r.conn, "watch_abort", None)
    if watch is not None:
        watch(r)
    return 1, None


# -- ngx.header ------------------------------------------------------------------

class _HeaderProxy:
    """`ngx.header`: the current request's response headers (`ngx.header.content_type = ...`)."""

    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        r = _req("ngx.header")
        if not isinstance(name, str):
            raise TypeError("bad argument to 'ngx.header' (string expected)")
        return r.out_headers.get(name)

    def __setitem__(self, name: str, value: Any) -> None:
        r = _req("ngx.header")
        if not isinstance(name, str):
            raise TypeError("bad argument to 'ngx.header' (string expected)")
        if r.headers_sent or r.seen_body or r.raw_acquired:  # nginx sends the head with the first output
            log.error(log.ERR, "attempt to set ngx.header.HEADER after sending out response headers")
            return
        r.out_headers.set(name, value)
        if canonical_name(name).lower() == "content-type":
            r.mime_set = True

    def __delitem__(self, name: str) -> None:
        self[name] = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        self[name] = None

    def __repr__(self) -> str:
        return "<ngx.header>"


header = _HeaderProxy()

