"""Type aliases for the tuples the Lua-style API returns.

Lua returns several values where Python returns a tuple of fixed arity:
`(result, err)` with `err` None on success and the result None (or False)
on failure.  These names let annotations say which shape a call returns,
so that editors and type checkers see `data, err = sock.receive()` as
`bytes | None` and `str | None`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = ["Err", "OkErr", "BoolErr", "CountErr", "DataErr", "ReadResult", "ShdictValue", "ShdictInput", "ShdictKey",
           "StoreResult", "IncrResult", "AnyErr", "LuaString", "Captures", "SendData", "FrameResult",
           "Payload", "Subject"]

#: The error slot: None on success, upstream's error string on failure.
Err = Optional[str]

#: `(1, None)` on success, `(None, err)` on failure (connect, close, setkeepalive, timer.at, ...).
OkErr = Tuple[Optional[int], Optional[str]]

#: `(True, None)` on success; `(None, err)` or `(False, err)` on failure.
BoolErr = Tuple[Optional[bool], Optional[str]]

#: `(n, None)` or `(None, err)`: a count (bytes sent, reuse count, list length ...).
CountErr = Tuple[Optional[int], Optional[str]]

#: `(data, None)` or `(None, err)`: socket data read by `receiveany`.
DataErr = Tuple[Optional[bytes], Optional[str]]

#: `(data, None, None)` or `(None, err, partial)`: socket `receive` and `receiveuntil` iterators.
ReadResult = Tuple[Optional[bytes], Optional[str], Optional[bytes]]

#: `(value, err)` where the value has no more precise type (redis replies, ...).
AnyErr = Tuple[Any, Optional[str]]

#: A string argument as Lua takes it: str (UTF-8), bytes-like, a number (as tostring prints it), None ("").
LuaString = Union[str, bytes, bytearray, memoryview, int, float, None]

#: What a socket `send` takes: str (UTF-8), bytes-like, numbers, and lists or tuples of these, nested.
SendData = Union[str, bytes, bytearray, memoryview, int, float, List[Any], Tuple[Any, ...]]

#: WebSocket `recv_frame` / `recv_message`: `(data, typ, err)`.  `data` is str for text, bytes for
#: binary, ping and pong; a close frame gives `(reason, "close", code)` with the status code (an int,
#: or None without one) in the third slot; a non-final frame gives "again" there; a failure `(None, None, err)`.
FrameResult = Tuple[Union[str, bytes, None], Optional[str], Union[str, int, None]]

#: What the WebSocket send calls are meant to take (another value is sent as Lua's tostring prints it).
Payload = Union[str, bytes, bytearray, memoryview, int, float, None]

#: An `ngx.re` subject: str and bytes as they are, others as Lua's tostring prints them.
Subject = Union[str, bytes, bytearray, memoryview, int, float]

#: `ngx.re` captures: 0 for the whole match, 1.. for groups (False when a group did not take part), names.
Captures = Dict[Union[int, str], Any]

#: What a shared dict stores and returns.
ShdictValue = Union[str, bytes, int, float, bool, None]

#: What a shared dict accepts as a value to store (bytes-like values come back as bytes).
ShdictInput = Union[ShdictValue, bytearray, memoryview]

#: What a shared dict accepts as a key (numbers as Lua's tostring prints them; None gives "nil key").
ShdictKey = Union[str, bytes, bytearray, memoryview, int, float, None]

#: Shared dict `set`/`add`/`replace`/`delete`: `(ok, err, forcible)`.
StoreResult = Tuple[Optional[bool], Optional[str], Optional[bool]]

#: Shared dict `incr`: `(new_value, err, forcible)`.
IncrResult = Tuple[Union[int, float, None], Optional[str], Optional[bool]]
