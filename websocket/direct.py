"""Direct reads and writes of frames on a file descriptor: one system call each, never blocking.

The stream under a plain socket hands out its file descriptor when it allows
a direct read or write right now (`Stream.direct_read_fd`, `direct_write_fd`);
`websocket.connection` then reads and parses a frame, or sends one, with a
single call here, and takes the stream's general path for everything else
(waiting, partial sends, failures in nginx's words).  Failures are errno
numbers: the stream names and logs them.

`websocket._speedups` has the same two functions in C (same arguments and
results); the Python twins here are the reference and the fallback.
"""
from __future__ import annotations

import errno
import os

from . import frames
from .frames import frame_head


def recv_parse(fd: int, buf, limit: int, rules: int):
    """One recv() into the writable `buf`, then `frames.parse` of what came.

    -> `(count, parse(buf, count, limit, rules))` when bytes came; `(0, None)`
    at the end of the stream; `(-errno, None)` when the read failed
    (`-EAGAIN`: nothing has arrived).
    """
    while True:
        try:
            n = os.readv(fd, [buf])
            break
        except InterruptedError:
            continue
        except OSError as exc:
            return -(exc.errno or errno.EIO), None
    if n == 0:
        return 0, None
    return n, frames.parse(buf, n, limit, rules)


def send_frame(fd: int, first_byte: int, payload) -> int:
    """One send of an unmasked frame (`first_byte`, then the head's length, then `payload`).

    -> the count of frame bytes the kernel took (0: it took none, it would
    block), or `-errno` when the send failed.
    """
    if not 0 <= first_byte <= 0xFF:
        raise ValueError("first byte out of range")
    head = frame_head(first_byte & 0x80, first_byte & 0x7F, len(payload), False)
    while True:
        try:
            return os.writev(fd, [head, payload])
        except InterruptedError:
            continue
        except BlockingIOError:
            return 0
        except OSError as exc:
            return -(exc.errno or errno.EIO)


#: The pure-Python versions, whichever is in use below.
py_recv_parse = recv_parse
py_send_frame = send_frame
try:  # the optional C extension (setup.py builds it when a compiler is there)
    from websocket._speedups import recv_parse  # noqa: F811
except ImportError:
    pass
try:
    from websocket._speedups import send_frame  # noqa: F811
except ImportError:
    pass
