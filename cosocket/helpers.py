"""The request-free `ngx.*` helpers: hashes, base64, URI and query args, time, SQL quoting, `ngx.config`.

Lua strings are byte strings; here every helper taking a string accepts
`str` (used as UTF-8) or `bytes`, and numbers or None where Lua's
`tostring` / lua-resty-core would accept them.  Results are `str` when
they are text by construction (hex digests, base64, escaped URIs, dates)
and `bytes` when they are binary (`md5_bin`, `sha1_bin`, `hmac_sha1`,
`decode_base64`).  `unescape_uri`, `decode_args` and `quote_sql_str` give
back the type they were given.  `ngx.re` (PCRE options on Python's `re`)
is the last section.
"""
from __future__ import annotations

import base64 as _base64
import calendar
import hashlib
import hmac
import os
import re as _re
import time as _time
import zlib
from types import SimpleNamespace
from typing import Optional

from . import runtime
from .text import lua_number, null

__all__ = ["sha1_bin", "md5", "md5_bin", "encode_base64", "decode_base64", "escape_uri",
           "unescape_uri", "encode_args", "decode_args", "now", "time", "update_time",
           "http_time", "cookie_time", "parse_http_time", "localtime", "utctime", "today",
           "crc32_short", "crc32_long", "hmac_sha1", "quote_sql_str", "re", "config"]


def _lua_bytes(value, fname: str, argn: int = 1) -> bytes:
    """A string argument as Lua sees it: bytes; str as UTF-8; numbers via tostring; None as ""."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if value is None:
        return b""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return lua_number(value).encode()
    raise TypeError("bad argument #%d to '%s' (string expected, got %s)"
                    % (argn, fname, "boolean" if isinstance(value, bool) else type(value).__name__))


# --- hashes ---------------------------------------------------------------------------

def md5(s) -> str:
    """`ngx.md5(s)`: hexadecimal MD5 digest."""
    return hashlib.md5(_lua_bytes(s, "md5")).hexdigest()


def md5_bin(s) -> bytes:
    """`ngx.md5_bin(s)`: raw MD5 digest."""
    return hashlib.md5(_lua_bytes(s, "md5_bin")).digest()


def sha1_bin(s) -> bytes:
    """`ngx.sha1_bin(s)`: raw SHA-1 digest."""
    return hashlib.sha1(_lua_bytes(s, "sha1_bin")).digest()


def hmac_sha1(key, s) -> bytes:
    """`ngx.hmac_sha1(secret_key, s)`: raw HMAC-SHA1 digest."""
    return hmac.new(_lua_bytes(key, "hmac_sha1", 1), _lua_bytes(s, "hmac_sha1", 2), hashlib.sha1).digest()


def crc32_short(s) -> int:
    """`ngx.crc32_short(s)`: CRC-32 as an unsigned integer."""
    return zlib.crc32(_lua_bytes(s, "crc32_short")) & 0xFFFFFFFF


def crc32_long(s) -> int:
    """`ngx.crc32_long(s)`: the same value as crc32_short."""
    return zlib.crc32(_lua_bytes(s, "crc32_long")) & 0xFFFFFFFF


# --- base64 ---------------------------------------------------------------------------

def encode_base64(s, no_padding: bool = False) -> str:
    """`ngx.encode_base64(s, no_padding?)`."""
    if not isinstance(no_padding, bool):
        raise TypeError("bad no_padding: boolean expected, got %s" % type(no_padding).__name__)
    out = _base64.b64encode(_lua_bytes(s, "encode_base64")).decode("ascii")
    return out.rstrip("=") if no_padding else out


_B64_BODY = _re.compile(rb"[A-Za-z0-9+/]*\Z")


def decode_base64(s) -> Optional[bytes]:
    """`ngx.decode_base64(s)`: the raw bytes, or None when `s` is not base64 (padding optional).

    As nginx's decoder, input stops at the first "=".
    """
    if s is None:
        raise TypeError("bad argument #1 to 'decode_base64' (string expected, got nil)")
    data = _lua_bytes(s, "decode_base64")
    cut = data.find(b"=")
    if cut >= 0:
        data = data[:cut]
    if not _B64_BODY.match(data) or len(data) % 4 == 1:
        return None
    return _base64.b64decode(data + b"=" * (-len(data) % 4))


# --- URIs and query args ----------------------------------------------------------------

def _escape_set(extra: bytes, controls: bool = True, high: bool = True) -> frozenset:
    chars = set(extra)
    if controls:
        chars.update(range(0x20))
    if high:
        chars.update(range(0x7F, 0x100))
    return frozenset(chars)


_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!'()*"
# lua-nginx-module's escape tables, by `type`
_ESCAPE_SETS = {
    0: _escape_set(b" #%?"),  # uri
    1: _escape_set(b" #%+?"),  # args
    2: frozenset(set(range(256)) - set(_UNRESERVED)),  # uri component
    3: _escape_set(b" #\"%'"),  # html
    4: _escape_set(b" \"'"),  # refresh
    5: _escape_set(b" %", high=False),  # memcached
    6: _escape_set(b" %", high=False),  # mail_auth
}
# Per type: a bytes->bytes regex sub that escapes the set, built once.
_ESCAPERS = {}
for _type, _chars in _ESCAPE_SETS.items():
    _cls = b"[" + b"".join(b"\\x%02x" % c for c in sorted(_chars)) + b"]"
    _ESCAPERS[_type] = _re.compile(_cls).sub
_PCT = [b"%%%02X" % c for c in range(256)]


def _pct(m) -> bytes:
    return _PCT[m.group()[0]]


def escape_uri(s, type: int = 2) -> str:  # noqa: A002  (Lua's parameter name)
    """`ngx.escape_uri(s, type=2)`: type 2 escapes all but `A-Za-z0-9-._~!'()*`; type 0 a full URI."""
    if isinstance(type, bool) or not isinstance(type, int):
        raise TypeError('"type" is not a number')
    if type not in _ESCAPERS:
        raise ValueError('"type" %d out of range' % type)
    data = _lua_bytes(s, "escape_uri")
    return _ESCAPERS[type](_pct, data).decode("latin-1")


_UNESCAPE = _re.compile(rb"%[0-9A-Fa-f]{2}|\+")


def _unpct(m) -> bytes:
    g = m.group()
    return b" " if g == b"+" else bytes((int(g[1:], 16),))


def _unescape_bytes(data: bytes) -> bytes:
    if b"%" not in data and b"+" not in data:
        return data
    return _UNESCAPE.sub(_unpct, data)


def unescape_uri(s):
    """`ngx.unescape_uri(s)`: `%XX` decoded, `+` as space, bad `%` kept; str in -> str out (UTF-8)."""
    if isinstance(s, str):
        return _unescape_bytes(s.encode("utf-8")).decode("utf-8", "replace")
    return _unescape_bytes(_lua_bytes(s, "unescape_uri"))


def _arg_piece(value) -> bytes:
    if isinstance(value, (bytes, str, bytearray, memoryview)) or (
            isinstance(value, (int, float)) and not isinstance(value, bool)):
        return _ESCAPERS[2](_pct, _lua_bytes(value, "encode_args"))
    kind = "userdata" if value is null else "table" if isinstance(value, dict) else type(value).__name__
    raise TypeError("attempt to use %s as query arg value" % kind)


def encode_args(args) -> str:
    """`ngx.encode_args(table)`: `True` gives a bare key, False/None/empty lists are skipped, lists repeat."""
    if not isinstance(args, dict):
        raise TypeError("bad argument #1 to 'encode_args' (table expected, got %s)" % type(args).__name__)
    parts = []
    for key, value in args.items():
        if not isinstance(key, (str, bytes)):
            raise TypeError('attempt to use a non-string key in the "args" option table')
        k = _ESCAPERS[2](_pct, _lua_bytes(key, "encode_args"))
        values = value if isinstance(value, (list, tuple)) else (value,)
        for v in values:
            if v is True:
                parts.append(k)
            elif v is False or v is None:
                continue
            else:
                parts.append(k + b"=" + _arg_piece(v))
    return b"&".join(parts).decode("latin-1")


def decode_args(s, max_args: int = 100) -> tuple:
    """`ngx.decode_args(str, max_args=100)` -> `(args, err)`; err is "truncated" past `max_args` (0: no limit).

    Repeated keys give lists, keys without "=" give True, empty keys are
    dropped; str in -> str keys and values (UTF-8), bytes in -> bytes.
    """
    as_text = not isinstance(s, (bytes, bytearray, memoryview))
    data = _lua_bytes(s, "decode_args")
    if isinstance(max_args, bool) or not isinstance(max_args, int):
        raise TypeError("bad argument #2 to 'decode_args' (number expected, got %s)" % type(max_args).__name__)
    result: dict = {}
    if not data:
        return result, None
    pairs = data.split(b"&")
    err = None
    if max_args > 0 and len(pairs) > max_args:
        # nginx stops at the max_args-th "&": the rest is not looked at
        pairs = pairs[:max_args]
        err = "truncated"
    elif max_args > 0 and len(pairs) == max_args + 1 and pairs[-1] == b"":
        err = "truncated"  # "a&b&" with max 2: the limit is hit at the last "&"
        pairs = pairs[:max_args]
    elif pairs[-1] == b"":
        pairs.pop()
    for pair in pairs:
        key, eq, value = pair.partition(b"=")
        key = _unescape_bytes(key)
        if not key:
            continue
        if as_text:
            key = key.decode("utf-8", "replace")
        val = True
        if eq:
            val = _unescape_bytes(value)
            if as_text:
                val = val.decode("utf-8", "replace")
        old = result.get(key)
        if old is None:
            result[key] = val
        elif isinstance(old, list):
            old.append(val)
        else:
            result[key] = [old, val]
    return result, err


_SQL_TABLE = {0: "\\0", 8: "\\b", 10: "\\n", 13: "\\r", 9: "\\t", 26: "\\Z",
              92: "\\\\", 39: "\\'", 34: '\\"'}
_SQL_BYTES = _re.compile(rb"[\x00\x08\n\r\t\x1a\\'\"]")


def _sql_escape_byte(m) -> bytes:
    return _SQL_TABLE[m.group()[0]].encode()


def quote_sql_str(s):
    """`ngx.quote_sql_str(s)`: a single-quoted MySQL string literal (bytes in -> bytes out)."""
    if isinstance(s, (bytes, bytearray, memoryview)):
        return b"'" + _SQL_BYTES.sub(_sql_escape_byte, bytes(s)) + b"'"
    text = s if isinstance(s, str) else _lua_bytes(s, "quote_sql_str").decode("utf-8")
    return "'" + text.translate(_SQL_TABLE) + "'"


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


def http_time(sec) -> str:
    """`ngx.http_time(sec)`: "Thu, 18 Nov 2010 11:27:35 GMT"."""
    t = _time.gmtime(_seconds(sec, "http_time"))
    return "%s, %02d %s %d %02d:%02d:%02d GMT" % (
        _WEEK[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)


def cookie_time(sec) -> str:
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


def parse_http_time(s) -> Optional[int]:
    """`ngx.parse_http_time(str)`: seconds since the epoch, or None for a malformed date."""
    text = _lua_bytes(s, "parse_http_time").decode("latin-1")
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


# --- ngx.config -------------------------------------------------------------------------

def _prefix() -> str:
    """`ngx.config.prefix()`: the server prefix with a trailing slash (the working directory outside it)."""
    conf = runtime.worker.main_conf
    path = conf.prefix if conf is not None and conf.prefix else os.getcwd()
    return path if path.endswith("/") else path + "/"


config = SimpleNamespace(
    debug=False,
    prefix=_prefix,
    nginx_version=1025003,
    ngx_lua_version=10026,
    subsystem="http",
)


# --- ngx.re -----------------------------------------------------------------------------
#
# PCRE patterns and options translated to Python's `re`, compiled once and cached
# (options "o" and "j" are therefore no-ops).  Positions are 1-based like Lua's:
# byte offsets for a bytes subject, character offsets for a str subject.

_RE_FLAGS = {"i": _re.IGNORECASE, "m": _re.MULTILINE, "s": _re.DOTALL, "x": _re.VERBOSE}
_RE_NOOP = frozenset("ojdJ")  # o/j: always cached; d (DFA) and J (JavaScript compat): no Python counterpart
_RE_CACHE_MAX = 1024  # lua_regex_cache_max_entries
_re_cache: dict = {}
_template_cache: dict = {}

_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r"\s", "xdigit": "0-9A-Fa-f", "word": r"\w", "blank": r" \t", "cntrl": r"\x00-\x1f\x7f",
    "punct": r"!-/:-@\[-`{-~", "print": r" -~", "graph": r"!-~",
}

_PCRE_TOKEN = _re.compile(r"""
    \\k(?:<(?P<kref>\w+)>|\{(?P<kref2>\w+)\}|'(?P<kref3>\w+)')
  | \\g(?:\{(?P<gref>-?\d+)\}|(?P<gref2>-?\d+))
  | \\x\{(?P<hex>[0-9A-Fa-f]+)\}
  | \\(?P<esc>.)
  | (?P<cls>\[\^?\]?(?:\\.|\[:\w+:\]|[^\]\\])*\])
  | \(\?(?:P?<(?P<name>\w+)>|'(?P<name2>\w+)')
  | (?P<open>\((?![?*]))
""", _re.VERBOSE | _re.DOTALL)

_PCRE_ESCAPES = {"z": r"\Z", "Z": r"(?=\n?\Z)", "h": r"[ \t]", "e": r"\x1b"}


class _Regex:
    """A translated, compiled pattern and what ngx.re needs to know about its groups."""

    __slots__ = ("pattern", "names", "ngroups", "anchored", "dupnames", "is_bytes")

    def __init__(self, pattern, names, anchored: bool, dupnames: bool, is_bytes: bool):
        self.pattern = pattern
        self.names = names  # [(name, group number)] in pattern order, duplicates included
        self.ngroups = pattern.groups
        self.anchored = anchored
        self.dupnames = dupnames
        self.is_bytes = is_bytes

    def exec(self, subject, pos: int):
        if pos > len(subject):
            return None
        if self.anchored:
            return self.pattern.match(subject, pos)
        return self.pattern.search(subject, pos)


def _translate(regex: str, dupnames: bool, is_bytes: bool):
    """PCRE syntax -> Python `re` syntax; returns (pattern text, [(name, group number)])."""
    names = []
    seen = set()
    ngroups = 0

    def repl(m) -> str:
        nonlocal ngroups
        kind = m.lastgroup
        if kind == "open":
            ngroups += 1
            return "("
        if kind in ("name", "name2"):
            ngroups += 1
            name = m.group(kind)
            names.append((name, ngroups))
            if name in seen and dupnames:
                return "(?P<_dup%d_%s>" % (ngroups, name)
            seen.add(name)
            return "(?P<%s>" % name
        if kind in ("kref", "kref2", "kref3"):
            return "(?P=%s)" % m.group(kind)
        if kind in ("gref", "gref2"):
            n = int(m.group(kind))
            return "(?:\\%d)" % (ngroups + 1 + n if n < 0 else n)
        if kind == "hex":
            code = int(m.group("hex"), 16)
            if is_bytes or code < 0x100:
                return "\\x%02x" % code if code < 0x100 else m.group()
            return "\\U%08x" % code
        if kind == "esc":
            return _PCRE_ESCAPES.get(m.group("esc"), m.group())
        # a character class: POSIX names inside it become ranges
        return _re.sub(r"\[:(\w+):\]", lambda c: _POSIX_CLASSES.get(c.group(1), c.group()), m.group())

    return _PCRE_TOKEN.sub(repl, regex), names


def _regex_options(opts):
    if opts is None:
        opts = ""
    elif isinstance(opts, bytes):
        opts = opts.decode("latin-1")
    elif not isinstance(opts, str):
        raise TypeError("bad argument #3 (string expected, got %s)" % type(opts).__name__)
    flags = 0
    anchored = dupnames = unicode = False
    for ch in opts:
        if ch in _RE_FLAGS:
            flags |= _RE_FLAGS[ch]
        elif ch in "uU":
            unicode = True
        elif ch == "a":
            anchored = True
        elif ch == "D":
            dupnames = True
        elif ch not in _RE_NOOP:
            raise ValueError('unknown flag "%s" (flags "%s")' % (ch, opts))
    return flags, anchored, dupnames, unicode


def _compile(regex, opts, is_bytes: bool):
    """The cached `_Regex` for `regex` / `opts` on a str or bytes subject -> (compiled, err)."""
    key = (regex, opts, is_bytes)
    hit = _re_cache.get(key)
    if hit is not None:
        return hit, None
    if isinstance(regex, (bytes, bytearray)):
        source = bytes(regex).decode("latin-1") if is_bytes else bytes(regex).decode("utf-8", "replace")
    elif isinstance(regex, str):
        source = regex.encode("utf-8").decode("latin-1") if is_bytes else regex
    else:
        raise TypeError("bad argument #2 (string expected, got %s)"
                        % ("nil" if regex is None else type(regex).__name__))
    flags, anchored, dupnames, unicode = _regex_options(opts)
    text, names = _translate(source, dupnames, is_bytes)
    if is_bytes:
        pattern_src = text.encode("latin-1", "replace")
    else:
        pattern_src = text
        if not unicode:
            flags |= _re.ASCII
    try:
        pattern = _re.compile(pattern_src, flags)
    except (_re.error, OverflowError, ValueError) as e:
        msg = e.msg if isinstance(e, _re.error) else str(e)
        shown = regex.decode("latin-1") if isinstance(regex, (bytes, bytearray)) else regex
        return None, 'pcre_compile() failed: %s in "%s"' % (msg, shown)
    compiled = _Regex(pattern, names, anchored, dupnames, is_bytes)
    if len(_re_cache) < _RE_CACHE_MAX:
        _re_cache[key] = compiled
    return compiled, None


def _subject(subject):
    """Lua's tostring(subject) for ngx.re: str and bytes as they are."""
    if isinstance(subject, (str, bytes)):
        return subject
    if isinstance(subject, (bytearray, memoryview)):
        return bytes(subject)
    from .text import lua_tostring
    return lua_tostring(subject)


def _captures(rx: _Regex, m, res: Optional[dict] = None) -> dict:
    caps = {} if res is None else res
    groups = m.groups()
    caps[0] = m.group(0)
    for i, value in enumerate(groups, 1):
        caps[i] = False if value is None else value
    if rx.names:
        if rx.dupnames:
            for name, _ in rx.names:
                caps.pop(name, None)
            for name, idx in rx.names:
                value = caps[idx]
                if value is not False:  # unmatched captures are not collected
                    caps.setdefault(name, []).append(value)
        else:
            for name, idx in rx.names:
                caps[name] = caps[idx]
    return caps


def _ctx_start(ctx) -> int:
    if ctx is None:
        return 0
    pos = ctx.get("pos")
    if not pos or pos <= 0:
        return 0
    return int(pos) - 1


def re_match(subject, regex, options=None, ctx=None, res_table=None) -> tuple:
    """`ngx.re.match(subject, regex, options?, ctx?, res_table?)` -> `(captures, err)`.

    `captures` is a dict: 0 for the whole match, 1.. for the groups (False
    when a group did not take part), names for named groups (with "D": a
    list of the matched values).  No match: `(None, None)`.  `ctx["pos"]`
    (1-based) sets where to start and is moved past the match.
    """
    subj = _subject(subject)
    rx, err = _compile(regex, options, isinstance(subj, bytes))
    if rx is None:
        return None, err
    m = rx.exec(subj, _ctx_start(ctx))
    if m is None:
        return None, None
    if ctx is not None:
        ctx["pos"] = m.end() + 1
    return _captures(rx, m, res_table), None


def re_find(subject, regex, options=None, ctx=None, nth: int = 0) -> tuple:
    """`ngx.re.find(subject, regex, options?, ctx?, nth?)` -> `(from, to, err)`, 1-based and inclusive.

    `nth` picks a capture group instead of the whole match.
    """
    subj = _subject(subject)
    rx, err = _compile(regex, options, isinstance(subj, bytes))
    if rx is None:
        return None, None, err
    m = rx.exec(subj, _ctx_start(ctx))
    if m is None:
        return None, None, None
    if ctx is not None:
        ctx["pos"] = m.end() + 1
    if not nth or nth < 0:
        nth = 0
    if nth > rx.ngroups:
        return None, None, "nth out of bound"
    start, end = m.span(nth)
    if start < 0:
        return None, None, None
    return start + 1, end, None


class GmatchIterator:
    """`ngx.re.gmatch`'s iterator: call it for `(captures, err)` (`(None, None)` at the end) or loop over it."""

    __slots__ = ("_rx", "_subject", "_pos")

    def __init__(self, rx: _Regex, subject):
        self._rx = rx
        self._subject = subject
        self._pos: Optional[int] = 0

    def __call__(self) -> tuple:
        pos = self._pos
        if pos is None:
            return None, None
        m = self._rx.exec(self._subject, pos)
        if m is None:
            self._pos = None
            return None, None
        start, end = m.span()
        if end == start:
            end += 1
            if end > len(self._subject):
                self._pos = None
        if self._pos is not None:
            self._pos = end
        return _captures(self._rx, m), None

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        caps, _ = self()
        if caps is None:
            raise StopIteration
        return caps


def re_gmatch(subject, regex, options=None) -> tuple:
    """`ngx.re.gmatch(subject, regex, options?)` -> `(iterator, err)`."""
    subj = _subject(subject)
    rx, err = _compile(regex, options, isinstance(subj, bytes))
    if rx is None:
        return None, err
    return GmatchIterator(rx, subj), None


_TEMPLATE_VAR = _re.compile(r"\$(?:(\$)|(\d+)|\{(\d+)\}|\{(\w+)\}|(\w+)|)")


def _compile_template(template: str, rx: _Regex):
    """nginx's `$0 $1 ${1} $$` replacement syntax (plus `${name}`) -> a list of str / group refs, or None."""
    key = (template, rx)
    parts = _template_cache.get(key)
    if parts is not None:
        return parts
    parts = []
    last = 0
    names = {}
    for name, idx in rx.names:
        names.setdefault(name, []).append(idx)
    for m in _TEMPLATE_VAR.finditer(template):
        if m.start() > last:
            parts.append(template[last:m.start()])
        last = m.end()
        dollar, num, bnum, bname, name = m.groups()
        if dollar:
            parts.append("$")
        elif num or bnum:
            parts.append(int(num or bnum))
        elif (bname or name) in names:
            parts.append(tuple(names[bname or name]))
        else:
            return None  # "$" at the end, "${", "${}", "$-", an unknown name
    if last < len(template):
        parts.append(template[last:])
    if len(_template_cache) < _RE_CACHE_MAX:
        _template_cache[key] = parts
    return parts


def _expand(parts, m, empty):
    out = []
    for p in parts:
        if isinstance(p, int):
            value = m.group(p) if p <= m.re.groups else None
            out.append(value if value is not None else empty)
        elif isinstance(p, tuple):  # a name: the first of its groups that matched
            out.append(next((m.group(i) for i in p if m.group(i) is not None), empty))
        else:
            out.append(p)
    return empty.join(out)


def _same_type(value, is_bytes: bool, fname: str):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value) if is_bytes else bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value.encode("utf-8") if is_bytes else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = lua_number(value)
        return text.encode() if is_bytes else text
    raise TypeError("bad argument #3 to '%s' (string expected, got %s)"
                    % (fname, "nil" if value is None else type(value).__name__))


def _substitute(subject, regex, replace, options, global_: bool) -> tuple:
    fname = "gsub" if global_ else "sub"
    subj = _subject(subject)
    is_bytes = isinstance(subj, bytes)
    rx, err = _compile(regex, options, is_bytes)
    if rx is None:
        return None, None, err
    empty = b"" if is_bytes else ""
    func = replace if callable(replace) else None
    parts = None
    if func is None:
        template = _same_type(replace, False, fname) if not isinstance(replace, str) else replace
        if is_bytes and isinstance(replace, (bytes, bytearray)):
            template = bytes(replace).decode("latin-1")
        parts = _compile_template(template, rx)
        if parts is None:
            return None, None, "failed to compile the replacement template"
        if is_bytes:
            parts = [p.encode("latin-1") if isinstance(p, str) else p for p in parts]
    out = []
    count = 0
    pos = cp = 0
    n = len(subj)
    while True:
        m = rx.exec(subj, pos)
        if m is None:
            break
        count += 1
        start, end = m.span()
        out.append(subj[cp:start])
        if func is not None:
            out.append(_same_type(func(_captures(rx, m)), is_bytes, fname))
        else:
            out.append(_expand(parts, m, empty))
        cp = pos = end
        if end == start:
            pos += 1
            if pos > n:
                break
        if not global_:
            break
    if count == 0:
        return subj, 0, None
    out.append(subj[cp:])
    return empty.join(out), count, None


def re_sub(subject, regex, replace, options=None) -> tuple:
    """`ngx.re.sub(subject, regex, replace, options?)` -> `(new, n, err)`: the first match replaced.

    `replace` is a template (`$0`, `$1`, `${1}`, `${name}`, `$$`) or a
    function taking the captures dict and returning the replacement.
    """
    return _substitute(subject, regex, replace, options, False)


def re_gsub(subject, regex, replace, options=None) -> tuple:
    """`ngx.re.gsub(subject, regex, replace, options?)` -> `(new, n, err)`: every match replaced."""
    return _substitute(subject, regex, replace, options, True)


re = SimpleNamespace(match=re_match, find=re_find, gmatch=re_gmatch, sub=re_sub, gsub=re_gsub)
