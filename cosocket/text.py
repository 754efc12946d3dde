"""Turning Python values into the bytes Lua would produce.

Two flavours, as in lua-nginx-module:

* `say_bytes(args)` for ngx.say / ngx.print / ngx.log: nil, booleans and
  ngx.null print as words; anything else unknown is a TypeError.
* `send_bytes(data)` for cosocket `send`: only strings, numbers and
  (nested) lists of them; nil and booleans are "bad data type" errors.
"""
from __future__ import annotations


class _Null:
    """`ngx.null`: a sentinel that prints as `null` (Lua's lightuserdata NULL)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"

    __str__ = __repr__


null = _Null()


def lua_number(value) -> str:
    """A number as Lua 5.1's tostring prints it (integers plain, floats with %.14g)."""
    if isinstance(value, int):
        return str(int(value))
    return "%.14g" % value


def lua_tostring(value) -> str:
    """Lua's tostring() for the values a script can hold."""
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return lua_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _say_piece(value, out: list, fname: str) -> None:
    if isinstance(value, bytes):
        out.append(value)
    elif isinstance(value, str):
        out.append(value.encode("utf-8"))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _say_piece(item, out, fname)
    elif isinstance(value, (bytearray, memoryview)):
        out.append(bytes(value))
    elif value is None:
        out.append(b"nil")
    elif value is True:
        out.append(b"true")
    elif value is False:
        out.append(b"false")
    elif isinstance(value, (int, float)):
        out.append(lua_number(value).encode())
    elif value is null:
        out.append(b"null")
    else:
        raise TypeError("bad argument to '%s' (%s found)" % (fname, type(value).__name__))


def say_bytes(args, fname: str = "say") -> bytes:
    """Join ngx.say/print/log arguments into bytes, flattening lists and tuples."""
    out: list = []
    for arg in args:
        _say_piece(arg, out, fname)
    return b"".join(out)


def _send_piece(value, out: list) -> None:
    if isinstance(value, bytes):
        out.append(value)
    elif isinstance(value, str):
        out.append(value.encode("utf-8"))
    elif isinstance(value, (bytearray, memoryview)):
        out.append(bytes(value))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _send_piece(item, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(lua_number(value).encode())
    else:
        kind = "nil" if value is None else "boolean" if isinstance(value, bool) else type(value).__name__
        raise TypeError("bad argument #1 to 'send' (bad data type %s found)" % kind)


def send_bytes(data) -> bytes:
    """The bytes cosocket `send` puts on the wire for `data` (see module doc)."""
    if type(data) is bytes:
        return data
    out: list = []
    _send_piece(data, out)
    return b"".join(out)
