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
    ("negotiated, no message yet", {}, {}, False),
    ("zlib's defaults: 15-bit windows, memLevel 8, context takeover", {}, {}, True),
    ("permessage_deflate=True on a server: 12-bit windows, memLevel 5", {},
     {"server_max_window_bits": 12, "client_max_window_bits": 12, "mem_level": 5}, True),
    ("server_max_window_bits=10, client 10, memLevel 4", {}, {"server_max_window_bits": 10,
                                                              "client_max_window_bits": 10, "mem_level": 4}, True),
    ("server_max_window_bits=9, client 9, memLevel 1", {}, {"server_max_window_bits": 9,
                                                            "client_max_window_bits": 9, "mem_level": 1}, True),
    ("server_no_context_takeover (15 bits, memLevel 8)", {}, {"server_no_context_takeover": True}, True),
    ("both no_context_takeover", {}, {"server_no_context_takeover": True,
                                      "client_no_context_takeover": True}, True),
]


def stream_ratio(server_settings: dict, client_settings: dict) -> float:
    """Compressed size of a stream of varied JSON messages sent by the server, in % of their plain size."""
    server_opts, client_opts = Options(**server_settings), Options(**client_settings)
    agreement, _ = server_opts.accept(client_opts.offer())
    conn = PerMessageDeflate(agreement, True, server_opts.level, server_opts.mem_level)
    plain = packed = 0
    for i in range(300):
        msg = ('{"seq": %d, "user": "user-%d", "event": "%s", "price": %d.%02d, "tags": ["t%d", "t%d"]}'
               % (i, i % 37, ("update", "create", "delete")[i % 3], i * 7 % 1000, i % 100, i % 11, i % 5)).encode()
        plain += len(msg)
        packed += len(conn.compress(msg))
    return 100.0 * packed / plain


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


def measure_peer(n: int, make) -> float:
    """Bytes held per connection by another library's per-connection compression objects."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [make() for _ in range(n)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del held
    return (after - before) / n


def websockets_server_state():
    """websockets' server extension at its defaults (12-bit windows, memLevel 5), one message each way."""
    from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,
                                                          enable_server_permessage_deflate)
    from websockets.frames import Frame, Opcode

    client = ClientPerMessageDeflateFactory()
    [server] = enable_server_permessage_deflate(None)  # what serve(compression="deflate") uses
    params, ext = server.process_request_params(client.get_request_params(), [])
    peer = client.process_response_params(params, [])
    ext.decode(peer.encode(Frame(Opcode.TEXT, MESSAGE)))
    ext.encode(Frame(Opcode.TEXT, MESSAGE))
    return ext


def aiohttp_server_state():
    """aiohttp's compressor and decompressor as its WebSocket writer/reader make them (15 bits, level 1)."""
    import zlib

    from aiohttp.compression_utils import ZLibCompressor, ZLibDecompressor

    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    incoming = c.compress(MESSAGE) + c.flush(zlib.Z_SYNC_FLUSH)
    compressor = ZLibCompressor(level=zlib.Z_BEST_SPEED, wbits=-15)
    compressor.compress_sync(MESSAGE)
    compressor.flush(zlib.Z_SYNC_FLUSH)
    decompressor = ZLibDecompressor(suppress_deflate_header=True)
    decompressor.decompress_sync(incoming)
    return compressor, decompressor


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    print("| settings (server side, after one message each way) | KiB per idle connection "
          "| 300 small JSON messages compressed to |")
    print("| --- | --- | --- |")
    for label, client_settings, server_settings, exchange in CASES:
        per = measure(n, client_settings, server_settings, exchange)
        ratio = "%.0f %%" % stream_ratio(server_settings, client_settings) if exchange else "-"
        print("| %s | %.1f | %s |" % (label, per / 1024, ratio))
    for label, make in (("websockets %s, its server defaults" % _version("websockets"), websockets_server_state),
                        ("aiohttp %s, its defaults" % _version("aiohttp"), aiohttp_server_state)):
        try:
            per = measure_peer(n, make)
        except ImportError:
            print("| %s | (not installed) | |" % label)
            continue
        print("| %s | %.1f | |" % (label, per / 1024))


def _version(name: str) -> str:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
