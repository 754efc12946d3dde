"""permessage-deflate (RFC 7692) on the real server: negotiation, compressed frames in and out, and refusals.

Crafted bytes go to the shipped /echo (compression on, server defaults) and to
apps/strict_echo.py at /deflate (compression on by default, settings from the
query string); every answer is checked on the wire with plain zlib.
"""
import json
import os
import random
import zlib
from urllib.parse import quote

import pytest

from .deflatewire import Inflater, deflate
from .wire import RawWS, close_body, frame

OFFER = "permessage-deflate; client_max_window_bits"
TEXT = ('{"id": 1, "name": "compressible", "tags": ["a", "b", "c"], "text": "%s"}' % ("lorem ipsum " * 40)).encode()


@pytest.fixture(scope="module")
def srv(ws_server):
    """The directory's server: /echo and the echo app at /deflate, which agrees permessage-deflate by default."""
    return ws_server


def path(**query):
    """/deflate with its query string (`deflate` given as a dict becomes JSON)."""
    parts = []
    for k, v in query.items():
        parts.append("%s=%s" % (k, quote(json.dumps(v) if k == "deflate" else str(v))))
    return "/deflate" + ("?" + "&".join(parts) if parts else "")


def open_ws(srv, p="/echo", extensions=OFFER):
    return RawWS(srv.port, p, extensions=extensions)


def closed_with(ws, code):
    got = ws.read_close()[0]
    assert got == code, "close code %r, expected %d" % (got, code)
    assert ws.eof(1.0), "the server must close TCP after refusing a frame"
    return True


# ---------------------------------------------------------------- negotiation
@pytest.mark.parametrize("offer,answer", [
    (OFFER, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
    ("permessage-deflate", "permessage-deflate; server_max_window_bits=12"),
    ("permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
     "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"),
    ("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12"),
    # the first acceptable offer; bad ones declined
    ("permessage-deflate; foo, permessage-deflate; server_max_window_bits=16, "
     "permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9"),
    (["x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits=\"11\""],
     "permessage-deflate; server_max_window_bits=12; client_max_window_bits=11"),
    ("permessage-deflate; server_max_window_bits", None),
    ("permessage-deflate; client_max_window_bits=7", None),
    ("permessage-deflate; client_no_context_takeover; client_no_context_takeover", None),
    ("x-webkit-deflate-frame", None),
    (None, None),
])
def test_echo_negotiation(srv, offer, answer):
    ws = open_ws(srv, "/echo", offer)
    try:
        assert ws.extensions == answer
    finally:
        ws.close()


def test_app_sees_what_was_agreed(srv):
    ws = open_ws(srv, path(report=1), "permessage-deflate; server_no_context_takeover")
    fin, rsv, opcode, payload = ws.read_frame_rsv()
    assert rsv == 0  # sent with compress=False
    report = json.loads(payload)
    assert report["header"] == ws.extensions == ("permessage-deflate; server_no_context_takeover; "
                                                 "server_max_window_bits=12")
    assert report["agreed"] == {"server_no_context_takeover": True, "client_no_context_takeover": False,
                                "server_max_window_bits": 12, "client_max_window_bits": 15}
    ws.close()


def test_off_when_not_asked(srv):
    ws = open_ws(srv, path(deflate=False, report=1))
    assert ws.extensions is None
    assert json.loads(ws.read_frame_rsv()[3]) == {"header": None, "agreed": None}
    ws.send(frame(1, deflate(b"x"), rsv=4))
    assert closed_with(ws, 1002)


# ---------------------------------------------------------------- messages
def test_compressed_echo_with_context_takeover(srv):
    ws = open_ws(srv)
    sender = zlib.compressobj(6, zlib.DEFLATED, -12)
    inflater = Inflater(12)
    sizes = []
    for i in range(4):
        msg = TEXT + b" %d" % i
        ws.send(frame(1, deflate(msg, compressor=sender), rsv=4))
        fin, rsv, opcode, payload = ws.read_frame_rsv()
        assert (fin, rsv, opcode) == (True, 4, 1)
        assert inflater.message(payload) == msg
        sizes.append(len(payload))
    assert sizes[1] < sizes[0] / 2  # the second refers to the first
    ws.close()


def test_server_no_context_takeover_makes_each_message_standalone(srv):
    ws = open_ws(srv, "/echo", "permessage-deflate; server_no_context_takeover")
    payloads = []
    for _ in range(3):
        ws.send(frame(1, deflate(TEXT), rsv=4))
        fin, rsv, opcode, payload = ws.read_frame_rsv()
        assert rsv == 4
        assert Inflater(12, takeover=False).message(payload) == TEXT
        payloads.append(payload)
    assert payloads[0] == payloads[1] == payloads[2]
    ws.close()


def test_fragmented_compressed_message(srv):
    ws = open_ws(srv)
    payload = deflate(TEXT * 5)
    cuts = [0, 1, 7, len(payload) // 2, len(payload)]
    for i in range(len(cuts) - 1):
        ws.send(frame(1 if i == 0 else 0, payload[cuts[i]:cuts[i + 1]], fin=i == len(cuts) - 2,
                      rsv=4 if i == 0 else 0))
    fin, rsv, opcode, back = ws.read_frame_rsv()
    assert Inflater(12).message(back) == TEXT * 5
    ws.close()


def test_ping_between_compressed_fragments(srv):
    ws = open_ws(srv)
    payload = deflate(TEXT)
    ws.send(frame(1, payload[:5], fin=False, rsv=4) + frame(9, b"hi") + frame(0, payload[5:]))
    assert ws.read_frame_rsv() == (True, 0, 10, b"hi")
    assert Inflater(12).message(ws.read_frame_rsv()[3]) == TEXT
    ws.close()


def test_uncompressed_message_after_negotiation(srv):
    ws = open_ws(srv)
    ws.send(frame(2, b"\x00\x01raw"))
    fin, rsv, opcode, payload = ws.read_frame_rsv()
    assert opcode == 2 and Inflater(12).message(payload) == b"\x00\x01raw"
    ws.close()


def test_empty_compressed_message(srv):
    ws = open_ws(srv)
    ws.send(frame(1, b"\x00", rsv=4))
    fin, rsv, opcode, payload = ws.read_frame_rsv()
    assert opcode == 1 and Inflater(12).message(payload) == b""
    ws.send(frame(2, b"", rsv=4))  # an empty payload: no deflate block at all, still an empty message
    assert Inflater(12).message(ws.read_frame_rsv()[3]) == b""
    ws.close()


def test_plain_sends_uncompressed(srv):
    ws = open_ws(srv, path(plain=1))
    ws.send(frame(1, deflate(TEXT), rsv=4))
    assert ws.read_frame_rsv() == (True, 0, 1, TEXT)
    ws.close()


def test_strict_recv_frame_returns_inflated_fragments(srv):
    # mode=frame echoes each frame as recv_frame returned it, with send_frame (raw meaning: uncompressed)
    ws = open_ws(srv, path(mode="frame"))
    rnd = random.Random(5)
    text = " ".join(rnd.choice(["κόσμε", "world", "ünïcode", "日本語", "text"]) for _ in range(3000))
    payload = deflate(text.encode(), 12)  # the client window agreed by default
    half = len(payload) // 2
    ws.send(frame(1, payload[:half], fin=False, rsv=4) + frame(0, payload[half:]))
    first = ws.read_frame_rsv()
    second = ws.read_frame_rsv()
    assert first[:3] == (False, 0, 1) and second[:3] == (True, 0, 0)
    assert (first[3] + second[3]).decode() == text
    assert first[3]  # the first fragment's bytes came back before the last fragment
    ws.close()


@pytest.mark.parametrize("bits", [8, 9, 10, 15])
def test_window_sizes_both_ways(srv, bits):
    offer = "permessage-deflate; server_max_window_bits=%d; client_max_window_bits=%d" % (bits, bits)
    ws = open_ws(srv, path(deflate={"server_max_window_bits": None, "client_max_window_bits": None}), offer)
    assert ws.extensions == offer
    rnd = random.Random(bits)
    sender = zlib.compressobj(6, zlib.DEFLATED, -max(bits, 9))
    inflater = Inflater(bits)
    for _ in range(3):
        msg = bytes(rnd.choice(b"abcdefgh ") for _ in range(20000))
        ws.send(frame(2, deflate(msg, compressor=sender), rsv=4))
        fin, rsv, opcode, payload = ws.read_frame_rsv()
        assert rsv == 4 and inflater.message(payload) == msg  # an inflater of `bits` reads it
    ws.close()


def test_client_window_larger_than_agreed_is_1007(srv):
    # agreed client_max_window_bits=9; the client refers 4 KiB back into its previous message
    ws = open_ws(srv, path(deflate={"client_max_window_bits": 9}), OFFER)
    assert "client_max_window_bits=9" in ws.extensions
    big = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = os.urandom(4096)
    ws.send(frame(2, deflate(block + os.urandom(600), compressor=big), rsv=4))
    ws.read_frame_rsv()
    ws.send(frame(2, deflate(block, compressor=big), rsv=4))
    assert closed_with(ws, 1007)


# ---------------------------------------------------------------- refusals
VIOLATIONS = [
    ("rsv1 on a continuation", frame(1, deflate(b"abc"), fin=False, rsv=4) + frame(0, b"", rsv=4), 1002),
    ("rsv1 on an uncompressed message's continuation", frame(1, b"ab", fin=False) + frame(0, b"c", rsv=4), 1002),
    ("rsv1 on a ping", frame(9, b"", rsv=4), 1002),
    ("rsv1 on a pong", frame(10, b"", rsv=4), 1002),
    ("rsv1 on a close", frame(8, close_body(1000), rsv=4), 1002),
    ("rsv2 on a text", frame(1, deflate(b"a"), rsv=2), 1002),
    ("rsv3 on a text", frame(1, deflate(b"a"), rsv=1), 1002),
    ("rsv1+rsv2", frame(1, deflate(b"a"), rsv=6), 1002),
    ("reserved block type", frame(1, b"\xff\xff\xff", rsv=4), 1007),
    ("stored block with bad length", frame(2, b"\x00\x05\x00\x00\x00abcde", rsv=4), 1007),
    ("garbage", frame(2, b"\x07" + bytes(10), rsv=4), 1007),
    ("data after a final block", frame(2, bytes.fromhex("f348cdc9c90700") + b"more", rsv=4), 1007),
    ("inflated text not UTF-8", frame(1, deflate(b"ok \xff"), rsv=4), 1007),
    ("inflated text with a surrogate", frame(1, deflate(b"\xed\xa0\x80"), rsv=4), 1007),
    ("inflated text ending inside a character", frame(1, deflate("é".encode()[:1]), rsv=4), 1007),
]


@pytest.mark.parametrize("name,data,code", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
@pytest.mark.parametrize("where", ["/echo", path(mode="frame")])
def test_violations(srv, name, data, code, where):
    ws = open_ws(srv, where)
    ws.send(data)
    assert closed_with(ws, code)


def test_bad_stream_in_a_later_fragment_is_1007(srv):
    ws = open_ws(srv)
    ws.send(frame(1, deflate(b"fine so far")[:-1], fin=False, rsv=4) + frame(0, b"\xff\xff\xff\xff"))
    assert closed_with(ws, 1007)


# ---------------------------------------------------------------- bombs
def bomb(n: int) -> bytes:
    return deflate(b"\0" * n)


@pytest.mark.parametrize("where", [path(max_payload_len=100000), path(max_payload_len=100000, mode="frame")])
def test_bomb_in_one_frame_is_1009(srv, where):
    payload = bomb(50 << 20)  # 50 MiB of zeros in about 50 KiB
    assert len(payload) < 100000
    ws = open_ws(srv, where)
    ws.send(frame(2, payload, rsv=4))
    assert closed_with(ws, 1009)


def test_inflated_size_at_the_limit_passes(srv):
    ws = open_ws(srv, path(max_payload_len=100000))
    ws.send(frame(2, bomb(100000), rsv=4))
    fin, rsv, opcode, payload = ws.read_frame_rsv()
    assert Inflater(12).message(payload) == b"\0" * 100000
    ws.send(frame(2, bomb(100001), rsv=4))
    assert closed_with(ws, 1009)


def test_bomb_across_fragments_hits_the_message_limit(srv):
    # each fragment inflates within max_payload_len; the message does not fit max_message_len
    ws = open_ws(srv, path(max_payload_len=60000, max_message_len=100000))
    c = zlib.compressobj(6, zlib.DEFLATED, -12)
    parts = [c.compress(b"\0" * 50000) + c.flush(zlib.Z_SYNC_FLUSH) for _ in range(3)]
    ws.send(frame(2, parts[0], fin=False, rsv=4) + frame(0, parts[1], fin=False) + frame(0, parts[2][:-4]))
    assert closed_with(ws, 1009)


def test_bomb_server_stays_small(srv):
    # many bombs in a row: each refused, the server keeps serving
    for _ in range(5):
        ws = open_ws(srv, path(max_payload_len=65536))
        ws.send(frame(2, bomb(20 << 20), rsv=4))
        assert closed_with(ws, 1009)
    ws = open_ws(srv)
    ws.send(frame(1, deflate(b"still here"), rsv=4))
    assert Inflater(12).message(ws.read_frame_rsv()[3]) == b"still here"
    ws.close()
