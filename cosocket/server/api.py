"""The ngx request API in one namespace: what `cosocket.ngx` hands out, gathered from its parts.

`output` (ngx.say, ngx.exit, ngx.status, ngx.ctx, ngx.header ...), `req`
(ngx.req.*), `var` (ngx.var) and `shared` (ngx.shared).
"""
from .output import (eof, exit, flush, get_ctx, get_status, header, headers_sent, on_abort, print_,
                     redirect, say, send_headers, set_ctx, set_status)
from .req import req
from .shared import setup_shared, shared
from .var import var

__all__ = ["eof", "exit", "flush", "get_ctx", "get_status", "header", "headers_sent", "on_abort", "print_",
           "redirect", "say", "send_headers", "set_ctx", "set_status", "req", "setup_shared", "shared", "var"]
