"""The message level on the real server: reassembly, pings, limits, options, and strict recv_frame."""
import time

import pytest

from .wire import RawWS, close_body, frame

ECHOES = [
    # (name, bytes sent, frames expected back as (fin, opcode, payload))
    *[("text of %d bytes" % n, frame(1, b"a" * n), [(True, 1, b"a" * n)]) for n in (0, 1, 125, 126, 65535, 65536)],
    *[("binary of %d bytes" % n, frame(2, bytes(range(256)) * (n // 256) + b"\x00" * (n % 256)),
       [(True, 2, bytes(range(256)) * (n // 256) + b"\x00" * (n % 256))]) for n in (0, 127, 70000)],
    ("text in 3 fragments", frame(1, b"ab", fin=False) + frame(0, b"cd", fin=False) + frame(0, b"ef"),
     [(True, 1, b"abcdef")]),
    ("binary in empty fragments", frame(2, b"", fin=False) + frame(0, b"", fin=False) + frame(0, b"\xff"),
     [(True, 2, b"\xff")]),
    ("ping between fragments", frame(1, b"ab", fin=False) + frame(9, b"hey") + frame(0, b"cd"),
     [(True, 10, b"hey"), (True, 1, b"abcd")]),
    ("ping answered with its payload", frame(9, b"x" * 125), [(True, 10, b"x" * 125)]),
    ("empty ping", frame(9, b""), [(True, 10, b"")]),
    ("unsolicited pong ignored", frame(10, b"?") + frame(1, b"t"), [(True, 1, b"t")]),
    ("two pings in a row", frame(9, b"1") + frame(9, b"2"), [(True, 10, b"1"), (True, 10, b"2")]),
]


@pytest.mark.parametrize("name,data,expected", ECHOES, ids=[e[0] for e in ECHOES])
def test_echo(ws_server, name, data, expected):
    ws = RawWS(ws_server.port)
    ws.send(data)
    got = [ws.read_frame()[:3] for _ in expected]
    assert got == expected
    ws.send(frame(8, close_body(1000)))
    assert ws.read_close() == (1000, b"")
    ws.close()


@pytest.mark.parametrize("cut", range(1, 4))
def test_character_split_across_fragments_at_every_byte(ws_server, cut):
    text = "a𝄞b".encode()  # a 4-byte character
    ws = RawWS(ws_server.port)
    ws.send(frame(1, text[:cut], fin=False) + frame(0, text[cut:cut + 2], fin=False) + frame(0, text[cut + 2:]))
    assert ws.read_frame()[:3] == (True, 1, text)
    ws.close()


# --- limits: max_payload_len (per frame) and max_message_len (per message) -> 1009 ---

LIMITS = [
    ("frame over max_payload_len", "max_payload_len=100", frame(2, b"x" * 101), 1009),
    ("announced length over it, no payload sent", "max_payload_len=100", frame(2, b"", length=1 << 40), 1009),
    ("fragments over max_message_len", "max_payload_len=100&max_message_len=150",
     frame(1, b"x" * 80, fin=False) + frame(0, b"x" * 80), 1009),
    ("default max_message_len is max_payload_len", "max_payload_len=100",
     frame(2, b"x" * 60, fin=False) + frame(0, b"x" * 60), 1009),
]


@pytest.mark.parametrize("name,query,data,code", LIMITS, ids=[c[0] for c in LIMITS])
def test_too_big(ws_server, name, query, data, code):
    ws = RawWS(ws_server.port, "/strict?" + query)
    ws.send(data)
    assert ws.read_close()[0] == code
    assert ws.eof(1.0)
    ws.close()


def test_message_of_exactly_max_message_len(ws_server):
    ws = RawWS(ws_server.port, "/strict?max_recv_len=100&max_message_len=150")
    ws.send(frame(1, b"x" * 75, fin=False) + frame(0, b"y" * 75))
    assert ws.read_frame()[:3] == (True, 1, b"x" * 75 + b"y" * 75)
    ws.close()


def test_pass_pings_returns_pings_and_pongs_unanswered(ws_server):
    ws = RawWS(ws_server.port, "/strict?pass_pings=1")
    ws.send(frame(9, b"hi") + frame(10, b"yo") + frame(1, b"t"))
    assert [ws.read_frame()[:3] for _ in range(3)] == [(True, 1, b"ping:hi"), (True, 1, b"pong:yo"), (True, 1, b"t")]
    ws.close()


# --- strict recv_frame: frames stay frames, violations are refused ---

def test_strict_recv_frame_keeps_frames(ws_server):
    ws = RawWS(ws_server.port, "/strict?mode=frame")
    ws.send(frame(1, "é".encode()[:1], fin=False) + frame(9, b"p") + frame(0, "é".encode()[1:]))
    # the handler sends each frame back as recv_frame returned it (a ping comes back as a pong)
    assert [ws.read_frame()[:3] for _ in range(3)] == [(False, 1, b""), (True, 10, b"p"), (True, 0, "é".encode())]
    ws.send(frame(8, close_body(3000)))
    assert ws.read_close() == (3000, b"")
    assert ws.eof(1.0)
    ws.close()


# --- subprotocols ---

PROTOCOLS = [
    ("the client's first supported", "/strict?protocols=b,c", "a, c, b", "c"),
    ("none supported", "/strict?protocols=x", "a, b", None),
    ("one offered", "/strict?protocols=a", "a", "a"),
    ("nothing offered", "/strict?protocols=a", None, None),
]


@pytest.mark.parametrize("name,path,offered,chosen", PROTOCOLS, ids=[p[0] for p in PROTOCOLS])
def test_protocol_choice(ws_server, name, path, offered, chosen):
    ws = RawWS(ws_server.port, path, protocols=offered)
    lines = [line.lower() for line in ws.head.split("\r\n")]
    if chosen is None:
        assert not any(line.startswith("sec-websocket-protocol") for line in lines)
    else:
        assert "sec-websocket-protocol: %s" % chosen in lines
    assert ws.read_frame()[2] == ("protocol=%s" % chosen).encode()
    ws.close()


def test_protocol_header_copied_without_the_option(ws_server):
    ws = RawWS(ws_server.port, "/echo", protocols="a, b")
    assert "sec-websocket-protocol: a, b" in ws.head.lower().split("\r\n")
    ws.close()


@pytest.mark.parametrize("cuts", [(1, 6), (5, 11), (2, 3, 7, 13)])
def test_text_frame_trickling_in_is_unmasked_across_chunks(ws_server, cuts):
    """A text frame read as it arrives: each chunk is unmasked at its offset in the payload."""
    text = "κόσμε €𝄞 done".encode()
    whole = frame(1, text)
    head = len(whole) - len(text)
    ws = RawWS(ws_server.port)
    start = 0
    for cut in cuts:
        ws.send(whole[start:head + cut])
        start = head + cut
        time.sleep(0.02)
    ws.send(whole[start:])
    assert ws.read_frame()[:3] == (True, 1, text)
    ws.close()
