"""The matcher of `receiveuntil`: reading a stream up to a byte pattern, as lua-nginx-module does.

`TCPSocket.receiveuntil(pattern)` returns an iterator (in cosocket.tcp) that
checks the socket's state and calls `read_until` here; `recovery_edges` is
computed once per iterator.

The matcher keeps lua-nginx-module's observable behaviour, including what it
hands out early: bytes that may start the pattern are held until they match
or fail, and a failed partial match hands its bytes out at once (with a
`size`, a read may so return more than `size` bytes, as upstream's "ab1" for
"ab1ab2" over "ab1ab1").  Held bytes stay at the front of the stream's read
buffer, so a receive() or another iterator reading meanwhile gets them in
stream order, and the iterator finds them again when it goes on.
"""
from __future__ import annotations

from typing import Optional, Tuple


def recovery_edges(pat: bytes) -> dict:
    """Where the matcher goes on a mismatch: {(state, byte): new_state}, as lua-nginx-module builds them.

    For each offset `i` of the pattern, the run of bytes from `i` that
    repeats the pattern's start gives one edge: at the state where that run
    ends, the byte that would continue the start recovers to the run's
    length + 1 instead of dropping every held byte.
    """
    edges: dict = {}
    n = len(pat)
    if n <= 2:
        return edges
    for i in range(1, n):
        k = 1
        while k <= n - i - 1:
            if pat[:k] != pat[i:i + k]:
                break
            if pat[k] == pat[i + k]:
                k += 1
                continue
            key = (i + k, pat[k])
            if edges.get(key, 0) < k + 1:
                edges[key] = k + 1
            break
    return edges


def read_until(stream, pat: bytes, edges: dict, inclusive: bool,
               size: int) -> Tuple[Optional[bytes], Optional[str], Optional[bytes], bool]:
    """Run the matcher over `stream` (a cosocket.stream.Stream whose read the caller may start now).

    -> `(data, None, None, matched)`: the data up to the pattern (the pattern
    included when `inclusive`), or with `size` (0: no limit) a chunk of at
    most about `size` bytes; `matched` is True when a sized read ended on the
    pattern (the iterator's next call answers `(None, None, None)`).  On a
    failed read: `(None, err, partial, False)`; the held bytes are not in the
    partial (nginx keeps them in its matching state) and after a timeout they
    are still buffered for the next read.
    """
    plen = len(pat)
    buf = stream.rbuf
    out = bytearray()
    rest = size  # 0: no size limit
    i = 0  # the next byte of buf to look at
    state = 0  # buf[i - state:i] == pat[:state] is held
    while True:
        n = len(buf)
        while i < n:
            c = buf[i]
            if c == pat[state]:
                i += 1
                state += 1
                if state == plen:
                    del buf[:i]
                    if inclusive:
                        out += pat
                    return bytes(out), None, None, bool(size)
                continue
            if state == 0:
                out.append(c)
                i += 1
                if size:
                    rest -= 1
                    if not rest:
                        del buf[:i]
                        return bytes(out), None, None, False
                continue
            new_state = edges.get((state, c)) if edges else None
            if new_state is None:
                # nothing of the held bytes can start the pattern: hand them out, look at c afresh
                out += pat[:state]
                emitted = state
                state = 0
                if size:
                    if rest <= emitted:
                        del buf[:i]
                        return bytes(out), None, None, False
                    rest -= emitted
                continue
            pending = state + 1 - new_state
            out += pat[:pending]
            i += 1
            state = new_state
            if size:
                if rest <= pending:
                    del buf[:i - state]
                    return bytes(out), None, None, False
                rest -= pending
        del buf[:i - state]  # what was handed out leaves the buffer; the held bytes stay
        i = state
        err = stream.fill()
        if err is not None:
            if err != "timeout":
                buf.clear()
            return None, err, bytes(out), False
