"""The string codecs of `ngx.*`: hashes, base64, URI escaping, query arguments, SQL quoting.

Lua strings are byte strings; every call taking a string accepts `str`
(used as UTF-8) or `bytes`, and numbers or None where Lua's `tostring` /
lua-resty-core would accept them.  Results are `str` when they are text by
construction (hex digests, base64, escaped URIs) and `bytes` when they are
binary (`md5_bin`, `sha1_bin`, `hmac_sha1`, `decode_base64`).
`unescape_uri`, `decode_args` and `quote_sql_str` give back the type they
were given.
"""
from __future__ import annotations

import base64 as _base64
import hashlib
import hmac
import re as _re
import zlib
from typing import Any, Dict, Optional, Tuple, Union, overload

from .text import lua_number, null
from .types import LuaString

__all__ = ["lua_bytes", "sha1_bin", "md5", "md5_bin", "encode_base64", "decode_base64", "escape_uri",
           "unescape_uri", "encode_args", "decode_args", "crc32_short", "crc32_long", "hmac_sha1",
           "quote_sql_str"]


def lua_bytes(value: LuaString, fname: str, argn: int = 1) -> bytes:
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

def md5(s: LuaString) -> str:
    """`ngx.md5(s)`: hexadecimal MD5 digest."""
    return hashlib.md5(lua_bytes(s, "md5")).hexdigest()


def md5_bin(s: LuaString) -> bytes:
    """`ngx.md5_bin(s)`: raw MD5 digest."""
    return hashlib.md5(lua_bytes(s, "md5_bin")).digest()


def sha1_bin(s: LuaString) -> bytes:
    """`ngx.sha1_bin(s)`: raw SHA-1 digest."""
    return hashlib.sha1(lua_bytes(s, "sha1_bin")).digest()


def hmac_sha1(key: LuaString, s: LuaString) -> bytes:
    """`ngx.hmac_sha1(secret_key, s)`: raw HMAC-SHA1 digest."""
    return hmac.new(lua_bytes(key, "hmac_sha1", 1), lua_bytes(s, "hmac_sha1", 2), hashlib.sha1).digest()


def crc32_short(s: LuaString) -> int:
    """`ngx.crc32_short(s)`: CRC-32 as an unsigned integer."""
    return zlib.crc32(lua_bytes(s, "crc32_short")) & 0xFFFFFFFF


def crc32_long(s: LuaString) -> int:
    """`ngx.crc32_long(s)`: the same value as crc32_short."""
    return zlib.crc32(lua_bytes(s, "crc32_long")) & 0xFFFFFFFF


# --- base64 ---------------------------------------------------------------------------

def encode_base64(s: LuaString, no_padding: bool = False) -> str:
    """`ngx.encode_base64(s, no_padding?)`."""
    if not isinstance(no_padding, bool):
        raise TypeError("bad no_padding: boolean expected, got %s" % type(no_padding).__name__)
    out = _base64.b64encode(lua_bytes(s, "encode_base64")).decode("ascii")
    return out.rstrip("=") if no_padding else out


_B64_BODY = _re.compile(rb"[A-Za-z0-9+/]*\Z")


def decode_base64(s: LuaString) -> Optional[bytes]:
    """`ngx.decode_base64(s)`: the raw bytes, or None when `s` is not base64 (padding optional).

    As nginx's decoder, input stops at the first "=".
    """
    if s is None:
        raise TypeError("bad argument #1 to 'decode_base64' (string expected, got nil)")
    data = lua_bytes(s, "decode_base64")
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


def escape_uri(s: LuaString, type: int = 2) -> str:  # noqa: A002  (Lua's parameter name)
    """`ngx.escape_uri(s, type=2)`: type 2 escapes all but `A-Za-z0-9-._~!'()*`; type 0 a full URI."""
    if isinstance(type, bool) or not isinstance(type, int):
        raise TypeError('"type" is not a number')
    if type not in _ESCAPERS:
        raise ValueError('"type" %d out of range' % type)
    data = lua_bytes(s, "escape_uri")
    return _ESCAPERS[type](_pct, data).decode("latin-1")


_UNESCAPE = _re.compile(rb"%[0-9A-Fa-f]{2}|\+")


def _unpct(m) -> bytes:
    g = m.group()
    return b" " if g == b"+" else bytes((int(g[1:], 16),))


def _unescape_bytes(data: bytes) -> bytes:
    if b"%" not in data and b"+" not in data:
        return data
    return _UNESCAPE.sub(_unpct, data)


@overload
def unescape_uri(s: str) -> str: ...
@overload
def unescape_uri(s: Union[bytes, bytearray, memoryview, int, float, None]) -> bytes: ...


def unescape_uri(s: LuaString) -> Union[str, bytes]:
    """`ngx.unescape_uri(s)`: `%XX` decoded, `+` as space, bad `%` kept; str in -> str out (UTF-8)."""
    if isinstance(s, str):
        return _unescape_bytes(s.encode("utf-8")).decode("utf-8", "replace")
    return _unescape_bytes(lua_bytes(s, "unescape_uri"))


def _arg_piece(value) -> bytes:
    if isinstance(value, (bytes, str, bytearray, memoryview)) or (
            isinstance(value, (int, float)) and not isinstance(value, bool)):
        return _ESCAPERS[2](_pct, lua_bytes(value, "encode_args"))
    kind = "userdata" if value is null else "table" if isinstance(value, dict) else type(value).__name__
    raise TypeError("attempt to use %s as query arg value" % kind)


def encode_args(args: Dict[Any, Any]) -> str:
    """`ngx.encode_args(table)`: `True` gives a bare key, False/None/empty lists are skipped, lists repeat."""
    if not isinstance(args, dict):
        raise TypeError("bad argument #1 to 'encode_args' (table expected, got %s)" % type(args).__name__)
    parts = []
    for key, value in args.items():
        if not isinstance(key, (str, bytes)):
            raise TypeError('attempt to use a non-string key in the "args" option table')
        k = _ESCAPERS[2](_pct, lua_bytes(key, "encode_args"))
        values = value if isinstance(value, (list, tuple)) else (value,)
        for v in values:
            if v is True:
                parts.append(k)
            elif v is False or v is None:
                continue
            else:
                parts.append(k + b"=" + _arg_piece(v))
    return b"&".join(parts).decode("latin-1")


def decode_args(s: LuaString, max_args: int = 100) -> Tuple[Dict[Any, Any], Optional[str]]:
    """`ngx.decode_args(str, max_args=100)` -> `(args, err)`; err is "truncated" past `max_args` (0: no limit).

    Repeated keys give lists, keys without "=" give True, empty keys are
    dropped; str in -> str keys and values (UTF-8), bytes in -> bytes.
    """
    as_text = not isinstance(s, (bytes, bytearray, memoryview))
    data = lua_bytes(s, "decode_args")
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
    key: Any
    val: Any
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


@overload
def quote_sql_str(s: Union[bytes, bytearray, memoryview]) -> bytes: ...
@overload
def quote_sql_str(s: Union[str, int, float, None]) -> str: ...


def quote_sql_str(s: LuaString) -> Union[str, bytes]:
    """`ngx.quote_sql_str(s)`: a single-quoted MySQL string literal (bytes in -> bytes out)."""
    if isinstance(s, (bytes, bytearray, memoryview)):
        return b"'" + _SQL_BYTES.sub(_sql_escape_byte, bytes(s)) + b"'"
    text = s if isinstance(s, str) else lua_bytes(s, "quote_sql_str").decode("utf-8")
    return "'" + text.translate(_SQL_TABLE) + "'"
