"""The clock of `ngx.*`: `now`, `time`, `update_time` and the HTTP, cookie and log date formats."""
from __future__ import annotations

import calendar
import re as _re
import time as _time
from typing import Optional

from .codecs import lua_bytes
from .types import LuaString

__all__ = ["now", "time", "update_time", "http_time", "cookie_time", "parse_http_time", "localtime",
           "utctime", "today"]


# --- time -------------------------------------------------------------------------------

_WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def now() -> float:
    """`ngx.now()`: seconds since the epoch with millisecond resolution."""
    return round(_time.time(), 3)


def time() -> int:
    """`ngx.time()`: whole seconds since the epoch."""
    return int(_time.time())


def update_time() -> None:
    """`ngx.update_time()`: the clock here is read on each call, so there is nothing to refresh."""


def _seconds(sec, fname: str) -> int:
    if isinstance(sec, bool) or not isinstance(sec, (int, float)):
        raise TypeError("bad argument #1 to '%s' (number expected, got %s)" % (fname, type(sec).__name__))
    return int(sec)


def http_time(sec: float) -> str:
    """`ngx.http_time(sec)`: "Thu, 18 Nov 2010 11:27:35 GMT"."""
    t = _time.gmtime(_seconds(sec, "http_time"))
    return "%s, %02d %s %d %02d:%02d:%02d GMT" % (
        _WEEK[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)


def cookie_time(sec: float) -> str:
    """`ngx.cookie_time(sec)`: "Thu, 18-Nov-10 11:27:35 GMT" (4-digit years after 2037, as nginx)."""
    t = _time.gmtime(_seconds(sec, "cookie_time"))
    year = "%d" % t.tm_year if t.tm_year > 2037 else "%02d" % (t.tm_year % 100)
    return "%s, %02d-%s-%s %02d:%02d:%02d GMT" % (
        _WEEK[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], year, t.tm_hour, t.tm_min, t.tm_sec)


_MONTH_NUM = {m.lower(): i for i, m in enumerate(_MONTHS, 1)}
_HMS = r"(\d\d):(\d\d):(\d\d)"
# nginx's ngx_parse_http_time: RFC 822/1123, RFC 850 and asctime forms
_RFC822 = _re.compile(r"[A-Za-z]+, (\d\d?) ([A-Za-z]{3}) (\d{4}) " + _HMS + r"(?: GMT)?\s*\Z")
_RFC850 = _re.compile(r"[A-Za-z]+, (\d\d)-([A-Za-z]{3})-(\d\d) " + _HMS + r"(?: GMT)?\s*\Z")
_ISOC = _re.compile(r"[A-Za-z]+ ([A-Za-z]{3}) ( ?\d\d?) " + _HMS + r" (\d{4})\s*\Z")


def parse_http_time(s: LuaString) -> Optional[int]:
    """`ngx.parse_http_time(str)`: seconds since the epoch, or None for a malformed date."""
    text = lua_bytes(s, "parse_http_time").decode("latin-1")
    m = _RFC822.match(text)
    if m:
        day, mon, year, hh, mi, ss = m.groups()
    else:
        m = _RFC850.match(text)
        if m:
            day, mon, yy, hh, mi, ss = m.groups()
            year = int(yy) + (2000 if int(yy) < 70 else 1900)
        else:
            m = _ISOC.match(text)
            if not m:
                return None
            mon, day, hh, mi, ss, year = m.groups()
    month = _MONTH_NUM.get(mon.lower())
    day, year, hh, mi, ss = int(day), int(year), int(hh), int(mi), int(ss)
    if month is None or hh > 23 or mi > 59 or ss > 59 or not 1 <= day <= 31:
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None
    return calendar.timegm((year, month, day, hh, mi, ss, 0, 0, 0))


def localtime() -> str:
    """`ngx.localtime()`: "yyyy-mm-dd hh:mm:ss" in local time."""
    return _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime())


def utctime() -> str:
    """`ngx.utctime()`: "yyyy-mm-dd hh:mm:ss" in UTC."""
    return _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime())


def today() -> str:
    """`ngx.today()`: "yyyy-mm-dd" in local time."""
    return _time.strftime("%Y-%m-%d", _time.localtime())
