"""The error log, in nginx's line format, and `ngx.log`.

    2026/11/25 10:00:00 [error] 4242#4242: *7 message, client: ..., server: ..., request: "...", host: "..."

Outside the server the log goes to stderr at level `error`, like nginx's
compiled-in default; the worker calls `configure()` with the conf's
`error_log` targets.  The request context (`*N` and the trailing
`client: ...` part) comes from the current request's `log_context()`.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, List, Optional, Sequence, TextIO, Tuple

from . import runtime
from .confmodel import LOG_LEVELS
from .text import say_bytes

STDERR, EMERG, ALERT, CRIT, ERR, WARN, NOTICE, INFO, DEBUG = range(9)


class _Target:
    __slots__ = ("path", "level", "stream")

    def __init__(self, path: str, level: int):
        self.path = path
        self.level = level
        self.stream: TextIO = sys.stderr  # open() replaces it at once (stderr is never closed)
        self.open()

    def open(self) -> None:
        if self.path == "stderr":
            self.stream = sys.stderr
            return
        old = self.stream
        self.stream = open(self.path, "a", buffering=1, encoding="utf-8", errors="replace")
        if old is not None and old is not sys.stderr:
            old.close()

    def write(self, line: str) -> None:
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):
            pass


_targets: List[_Target] = [_Target("stderr", ERR)]
_max_level = ERR
#: Whether debug messages are written (what `enabled(DEBUG)` answers), for the per-frame and
#: per-read paths that test it on every call; `configure` keeps it current.
debug_enabled = False


def level_number(name: str) -> int:
    """`"error"` -> 4 (ngx.ERR); raises ValueError for an unknown level name."""
    return LOG_LEVELS.index(name)


def configure(targets: Sequence[Tuple[str, str]]) -> None:
    """Send the log to `targets`, a list of (absolute path or "stderr", level name)."""
    global _targets, _max_level, debug_enabled
    new = [_Target(path, level_number(level)) for path, level in targets]
    for old in _targets:
        if old.stream is not None and old.stream is not sys.stderr:
            old.stream.close()
    _targets = new
    _max_level = max((t.level for t in new), default=ERR)
    debug_enabled = DEBUG <= _max_level


def reopen() -> None:
    """Reopen every log file (SIGUSR1), so rotated files are let go."""
    for target in _targets:
        if target.path != "stderr":
            target.open()


def enabled(level: int) -> bool:
    """Whether a message at `level` would be written; check before building costly messages."""
    return level <= _max_level


def format_line(level: int, msg: str, context: str = "", conn: Optional[int] = None) -> str:
    pid = os.getpid()
    conn_part = "*%d " % conn if conn is not None else ""
    return "%s [%s] %d#%d: %s%s%s\n" % (
        time.strftime("%Y/%m/%d %H:%M:%S"), LOG_LEVELS[level], pid, pid, conn_part, msg, context)


def error(level: int, msg: str) -> None:
    """Write `msg` at `level` with the current request's context, as nginx's ngx_log_error."""
    if level > _max_level:
        return
    conn = None
    context = ""
    req = runtime.current_request.get()
    if req is not None:
        conn = req.connection_number
        context = req.log_context()
    elif runtime.in_timer.get():
        context = ", context: ngx.timer"
    line = format_line(level, msg, context, conn)
    for target in _targets:
        if level <= target.level:
            target.write(line)


def ngx_log(level: int, *args: Any) -> None:
    """`ngx.log(level, ...)`: joins the arguments like ngx.print and names the caller's file:line."""
    if not isinstance(level, int) or not 0 <= level <= 8:
        raise TypeError("bad argument #1 to 'log' (bad log level)")
    if level > _max_level:
        return
    frame = sys._getframe(1)
    where = "%s:%d" % (os.path.basename(frame.f_code.co_filename), frame.f_lineno)
    text = say_bytes(args, "log").decode("utf-8", "replace")
    error(level, "[python] %s: %s" % (where, text))
