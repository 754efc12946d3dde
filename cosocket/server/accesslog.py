"""The access log: nginx's `combined` line format, one O_APPEND write per line."""
from __future__ import annotations

import os
import time
from typing import Optional


class AccessLog:
    """One access-log file, written with a single os.write per line (O_APPEND)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = -1
        self.open()

    def open(self) -> None:
        old = self.fd
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            self.fd = -1
        if old >= 0:
            os.close(old)

    def write(self, line: bytes) -> None:
        if self.fd >= 0:
            try:
                os.write(self.fd, line)
            except OSError:
                pass


_local_time_cache = [0, ""]


def time_local(now: float) -> str:
    """nginx's $time_local: `25/Nov/2026:10:00:00 +0000`."""
    sec = int(now)
    if _local_time_cache[0] != sec:
        _local_time_cache[0] = sec
        _local_time_cache[1] = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(sec))
    return _local_time_cache[1]


def _log_escape(value: str) -> str:
    # nginx escapes ", \ and bytes outside printable ASCII as \xXX in log variables
    if value.isprintable() and value.isascii() and '"' not in value and "\\" not in value:
        return value
    out = []
    for ch in value:
        o = ord(ch)
        if ch == '"' or ch == "\\" or o < 0x20 or o > 0x7e:
            out.append("\\x%02X" % (o & 0xff))
        else:
            out.append(ch)
    return "".join(out)


def combined_line(remote_addr: str, request_line: str, status: int, body_bytes: int,
                  referer: Optional[str], user_agent: Optional[str], now: float) -> bytes:
    """One line of nginx's `combined` log format."""
    return ('%s - - [%s] "%s" %d %d "%s" "%s"\n' % (
        remote_addr, time_local(now), _log_escape(request_line), status, body_bytes,
        _log_escape(referer) if referer else "-", _log_escape(user_agent) if user_agent else "-",
    )).encode("utf-8", "replace")
