"""Memory held per idle permessage-deflate connection, by settings (zlib's state is the cost).

Measures, with tracemalloc (zlib allocates through Python's raw allocator,
which tracemalloc follows), what `websocket.deflate.PerMessageDeflate` holds
for N server-side connections after one message each way, then idle.  This
is what compression adds on top of an uncompressed connection (see the
benchmark's "memory per idle connection" row for that base).  Bounded: N
connections (default 500), a few seconds.

    python3 bench/deflate_memory.py [N]
"""
from __future__ import annotations

import gc
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websocket.deflate import Options, PerMessageDeflate  # noqa: E402

MESSAGE = b'{"id": 12345, "user": "someone", "event": "update", "payload": {"x": 1, "y": 2}}' * 8

# (label, client offer settings, server settings, send a message each way)
CASES = [
    ("negotiated, no message yet (defaults)", {}, {}, False),
    ("defaults: 15-bit windows, memLevel 8, context takeover", {}, {}, True),
    ("server_max_window_bits=12, client 12, memLevel 5", {}, {"server_max_window_bits": 12,
                                                              "client_max_window_bits": 12, "mem_level": 5}, True),
    ("server_max_window_bits=10, client 10, memLevel 4", {}, {"server_max_window_bits": 10,
                                                              "client_max_window_bits": 10, "mem_level": 4}, True),
    ("server_max_window_bits=9, client 9, memLevel 1", {}, {"server_max_window_bits": 9,
                                                            "client_max_window_bits": 9, "mem_level": 1}, True),
    ("server_no_context_takeover (15 bits, memLevel 8)", {}, {"server_no_context_takeover": True}, True),
    ("both no_context_takeover", {}, {"server_no_context_takeover": True,
                                      "client_no_context_takeover": True}, True),
]


def measure(n: int, client_settings: dict, server_settings: dict, exchange: bool) -> float:
    """Bytes held per connection (server side), idle after the exchange."""
    server_opts = Options(**server_settings)
    client_opts = Options(**client_settings)
    agreement, header = server_opts.accept(client_opts.offer())
    client_agreement, err = client_opts.check_response(header)
    assert err is None
    peer = PerMessageDeflate(client_agreement, False)
    incoming = peer.compress(MESSAGE)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = []
    for _ in range(n):
        conn = PerMessageDeflate(agreement, True, server_opts.level, server_opts.mem_level)
        if exchange:
            conn.inflate(incoming, True)
            conn.compress(MESSAGE)
        held.append(conn)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del held
    return (after - before) / n


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print("| settings (server side, after one message each way) | KiB per idle connection |")
    print("| --- | --- |")
    for label, client_settings, server_settings, exchange in CASES:
        per = measure(n, client_settings, server_settings, exchange)
        print("| %s | %.1f |" % (label, per / 1024))


if __name__ == "__main__":
    main()
