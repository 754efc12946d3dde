"""ngx.var: the nginx variables of the current request, and their expansion in directive text."""
from __future__ import annotations

import os
import re
import time
from typing import Any, Callable, Dict, NoReturn, Optional, Union

from ..runtime import get_request as _req
from . import accesslog
from .req import get_uri_args_of
from .request import Request

# -- ngx.var ---------------------------------------------------------------------

def _var_args(r: Request):
    return r.head.args


def _var_host(r: Request):
    if r.head.host:
        return r.head.host
    return r.server_name() or r.conn.local_addr


def _var_request_time(r: Request):
    return "%.3f" % max(0.0, time.time() - r.start_time)


_VARS: Dict[str, Callable[[Request], Optional[str]]] = {
    "uri": lambda r: r.head.uri,
    "document_uri": lambda r: r.head.uri,
    "request_uri": lambda r: r.head.request_uri,
    "args": _var_args,
    "query_string": _var_args,
    "is_args": lambda r: "?" if r.head.args is not None else "",
    "host": _var_host,
    "hostname": lambda r: os.uname().nodename,
    "scheme": lambda r: "https" if r.conn.ssl else "http",
    "https": lambda r: "on" if r.conn.ssl else "",
    "request_method": lambda r: r.head.method,
    "request": lambda r: r.head.request_line,
    "server_protocol": lambda r: r.head.protocol,
    "server_name": lambda r: r.server_name(),
    "server_addr": lambda r: r.conn.local_addr,
    "server_port": lambda r: r.conn.local_port,
    "remote_addr": lambda r: r.conn.remote_addr,
    "remote_port": lambda r: r.conn.remote_port,
    "binary_remote_addr": lambda r: r.conn.remote_addr,
    "request_id": lambda r: r.request_id,
    "status": lambda r: "%03d" % r.status if r.headers_sent else "000",
    "request_time": _var_request_time,
    "msec": lambda r: "%.3f" % time.time(),
    "connection": lambda r: str(r.connection_number),
    "connection_requests": lambda r: str(r.conn.requests),
    "content_length": lambda r: r.head.get("content-length"),
    "content_type": lambda r: r.head.get("content-type"),
    "body_bytes_sent": lambda r: str(r.body_bytes_sent),
    "request_length": lambda r: None,
    "ssl_server_name": lambda r: r.conn.ssl_server_name,
    "ssl_client_verify": lambda r: r.conn.ssl_client_verify if r.conn.ssl else None,
    "ssl_protocol": lambda r: r.conn.ssl_protocol,
    "ssl_cipher": lambda r: r.conn.ssl_cipher,
    "pid": lambda r: str(os.getpid()),
    "nginx_version": lambda r: "1.25.3",
    "time_local": lambda r: accesslog.time_local(time.time()),
    "request_body": lambda r: r.body.decode("latin-1") if r.body is not None else None,
}


def _lookup_var(r: Request, name: str) -> Optional[str]:
    fn = _VARS.get(name)
    if fn is not None:
        return fn(r)
    if name.startswith("http_"):
        return r.head.get(name[5:].replace("_", "-"))
    if name.startswith("arg_"):
        args = get_uri_args_of(r, 0)
        value = args.get(name[4:].lower())
        if value is None:
            for k, v in args.items():
                if k.lower() == name[4:].lower():
                    value = v
                    break
        if isinstance(value, list):
            value = value[0]
        if value is True:
            return ""
        return value
    if name.startswith("cookie_"):
        cookies = r.head.get("cookie")
        if not cookies:
            return None
        want = name[7:]
        for part in cookies.split(";"):
            k, _, v = part.strip().partition("=")
            if k == want:
                return v
        return None
    if name.startswith("sent_http_"):
        value = r.out_headers.get(name[10:])
        return value if not isinstance(value, list) else value[0]
    return None


class _VarProxy:
    """`ngx.var`: nginx variables of the current request, as str (None when unset)."""

    __slots__ = ()

    def __getitem__(self, name: Union[str, int]) -> Optional[str]:
        r = _req("ngx.var")
        if isinstance(name, int):  # the regex location's captures ($1 ...), set by handlers.dispatch
            captures = getattr(r, "captures", None)
            if captures is None or not 0 <= name <= captures.re.groups:
                return None
            return captures.group(name)
        if not isinstance(name, str):
            raise TypeError("bad argument to 'ngx.var' (string expected)")
        return _lookup_var(r, name.lower())

    def __setitem__(self, name: Union[str, int], value: Any) -> NoReturn:
        _req("ngx.var")
        raise RuntimeError('variable "%s" not found for writing; maybe it is a built-in variable that is '
                           'not changeable or you forgot to use "set $%s \'\';" in the config to define it '
                           'first' % (name, name))

    def __getattr__(self, name: str) -> Optional[str]:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __repr__(self) -> str:
        return "<ngx.var>"


var = _VarProxy()


_VAR_REF = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def expand(r: Request, text: str) -> str:
    """`text` with each `$name`, `${name}` or `$1` replaced by the variable's value of request `r` (empty
    when it has none), as nginx expands the text of `return`, handler paths and other directives.

    `$1`...`$9` are the captures of the regex location that matched (`r.captures`)."""
    if "$" not in text:
        return text
    captures = getattr(r, "captures", None)

    def value(m) -> str:
        name = m.group(1) or m.group(2)
        if name.isdigit():
            n = int(name)
            if captures is None or n > captures.re.groups:
                return ""
            return captures.group(n) or ""
        return _lookup_var(r, name.lower()) or ""
    return _VAR_REF.sub(value, text)
