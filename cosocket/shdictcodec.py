"""How a shared dict's keys and values are held as bytes: their type numbers, encoding and decoding.

`cosocket.shdict` encodes what a caller stores; `cosocket.shdictzone` keeps
the type number and the bytes in an entry and decodes them when a value is
read back, or to check that an entry survived a crash whole.  A key is
UTF-8 text (`K_STR`, numbers and booleans as Lua's `tostring` writes them)
or raw bytes (`K_BYTES`); a value's type numbers follow Lua's where Lua has
one.
"""
from __future__ import annotations

import struct

from .text import lua_number

__all__ = ["T_NIL", "T_BOOL", "T_FLOAT", "T_STR", "T_LIST", "T_BYTES", "T_INT", "T_BIGINT",
           "K_STR", "K_BYTES", "MAX_KEY", "encode_key", "encode_value", "decode_value"]

_F64 = struct.Struct("<d")
_I64 = struct.Struct("<q")

# value types (Lua's numbering where Lua has one)
T_NIL, T_BOOL, T_FLOAT, T_STR, T_LIST, T_BYTES, T_INT, T_BIGINT = 0, 1, 3, 4, 5, 6, 7, 8
K_STR, K_BYTES = 0, 1

MAX_KEY = 65535


def encode_key(key):
    """(bytes, key type, error)."""
    if key is None:
        return None, 0, "nil key"
    if isinstance(key, str):
        kb, kt = key.encode("utf-8", "surrogatepass"), K_STR
    elif isinstance(key, (bytes, bytearray, memoryview)):
        kb, kt = bytes(key), K_BYTES
    elif isinstance(key, (int, float)):  # Lua's tostring(key), bool included
        kb, kt = (lua_number(key) if not isinstance(key, bool) else ("true" if key else "false")).encode(), K_STR
    else:
        raise TypeError("bad argument #1 to shared dict call (string expected, got %s)" % type(key).__name__)
    if not kb:
        return None, 0, "empty key"
    if len(kb) > MAX_KEY:
        return None, 0, "key too long"
    return kb, kt, None


def encode_value(value, list_item: bool = False):
    """(type, bytes) or (None, None) for a value the dict cannot hold."""
    if value is None:
        return T_NIL, b""
    if isinstance(value, str):
        return T_STR, value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return T_BYTES, bytes(value)
    if isinstance(value, bool):
        if list_item:
            return None, None
        return T_BOOL, b"\x01" if value else b"\x00"
    if isinstance(value, int):
        if -(1 << 63) <= value < (1 << 63):
            return T_INT, _I64.pack(value)
        return T_BIGINT, str(value).encode()
    if isinstance(value, float):
        return T_FLOAT, _F64.pack(value)
    return None, None


def decode_value(vtype: int, data: bytes):
    """The value of type `vtype` held in `data` (ValueError, struct.error or UnicodeError when it is not one)."""
    if vtype == T_STR:
        return data.decode("utf-8", "surrogatepass")
    if vtype == T_BYTES:
        return data
    if vtype == T_INT:
        return _I64.unpack(data)[0]
    if vtype == T_FLOAT:
        return _F64.unpack(data)[0]
    if vtype == T_BOOL:
        return data != b"\x00"
    if vtype == T_BIGINT:
        return int(data)
    raise ValueError("bad value type %d in a shared dict" % vtype)
