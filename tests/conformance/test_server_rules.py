"""RFC 6455 rules enforced by the real server: crafted frames in, exact close code and a closed TCP out.

Every case runs against the shipped /echo handler (recv_message), and the
frame-level ones also against `recv_frame` with strict=True.
"""
import time

import pytest

from .wire import MASK_KEY, RawWS, close_body, frame

# (name, bytes sent, close code expected from the server)
VIOLATIONS = [
    ("rsv1", frame(1, b"a", rsv=4), 1002),
    ("rsv2", frame(1, b"a", rsv=2), 1002),
    ("rsv3", frame(1, b"a", rsv=1), 1002),
    ("rsv on ping", frame(9, b"", rsv=7), 1002),
    *[("opcode %d" % op, frame(op, b"x"), 1002) for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)],
    ("unmasked text", frame(1, b"hi", key=None), 1002),
    ("unmasked close", frame(8, close_body(1000), key=None), 1002),
    ("ping 126 bytes", frame(9, b"p" * 126), 1002),
    ("fragmented ping", frame(9, b"p", fin=False), 1002),
    ("fragmented close", frame(8, close_body(1000), fin=False), 1002),
    ("lone continuation", frame(0, b"x"), 1002),
    ("lone non-final continuation", frame(0, b"x", fin=False), 1002),
    ("text inside fragmented text", frame(1, b"a", fin=False) + frame(1, b"b"), 1002),
    ("binary inside fragmented text", frame(1, b"a", fin=False) + frame(2, b"b"), 1002),
    ("text inside fragmented binary", frame(2, b"a", fin=False) + frame(1, b"b"), 1002),
    ("continuation after a whole message", frame(1, b"a") + frame(0, b"b"), 1002),
    ("64-bit length with its top bit", bytes((0x82, 0xFF)) + b"\x80" + bytes(7) + MASK_KEY, 1002),
    ("close body of 1 byte", frame(8, b"\x03"), 1002),
    *[("close code %d" % c, frame(8, close_body(c)), 1002)
      for c in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)],
    ("close reason not UTF-8", frame(8, close_body(1000, b"\xce\xba\xff")), 1007),
    ("text not UTF-8", frame(1, b"\xff"), 1007),
    ("text with a surrogate", frame(1, b"\xed\xa0\x80"), 1007),
    ("text with an overlong", frame(1, b"\xc0\xaf"), 1007),
    ("text past U+10FFFF", frame(1, b"\xf4\x90\x80\x80"), 1007),
    ("text ending inside a character", frame(1, "é".encode()[:1]), 1007),
    ("bad UTF-8 in a continuation", frame(1, b"ok", fin=False) + frame(0, b"\x80"), 1007),
    ("message ending inside a character", frame(1, "€".encode()[:2], fin=False) + frame(0, b""), 1007),
]


def _assert_closed_with(ws: RawWS, code: int) -> None:
    got, _ = ws.read_close()
    assert got == code
    assert ws.eof(1.0), "the server must close TCP after refusing a frame"


@pytest.mark.parametrize("path", ["/echo", "/strict?mode=frame"])
@pytest.mark.parametrize("name,data,code", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_violation_gets_close_code_and_tcp_close(ws_server, path, name, data, code):
    ws = RawWS(ws_server.port, path)
    try:
        ws.send(data)
        _assert_closed_with(ws, code)
    finally:
        ws.close()


def test_violation_is_logged_with_the_rule(ws_server):
    ws = RawWS(ws_server.port)
    ws.send(frame(0, b"x"))
    _assert_closed_with(ws, 1002)
    ws.close()
    deadline = time.monotonic() + 2
    while "websocket ended: unexpected continuation frame" not in ws_server.error_log():
        assert time.monotonic() < deadline, ws_server.error_log()
        time.sleep(0.02)


# --- UTF-8 fails fast: the frame is refused at its first impossible byte ------

FAIL_FAST = [
    # (valid so far, the bytes making it impossible, a rest that never comes in time)
    ("F4 90 (past U+10FFFF)", "κόσμε".encode(), b"\xf4\x90", b"\x80\x80edited"),
    ("F4, then 90", "κόσμε".encode() + b"\xf4", b"\x90", b"\x80\x80edited"),
    ("ED A0 (a surrogate)", b"ab", b"\xed\xa0", b"\x80cd"),
    ("C0 (overlong lead)", b"ab", b"\xc0", b"\xafcd"),
    ("FF", b"", b"\xff", b"abc"),
]


@pytest.mark.parametrize("name,before,bad,rest", FAIL_FAST, ids=[c[0] for c in FAIL_FAST])
@pytest.mark.parametrize("split", ["inside one frame", "across frames"])
def test_utf8_fails_fast(ws_server, name, before, bad, rest, split):
    """Autobahn 6.4.x: refused at the impossible byte, the rest of the frame or message never sent."""
    ws = RawWS(ws_server.port)
    try:
        if split == "inside one frame":
            whole = frame(1, before + bad + rest)
            ws.send(whole[: len(whole) - len(rest)])  # the frame's tail is held back
        else:
            ws.send(frame(1, before, fin=False))
            time.sleep(0.02)
            ws.send(frame(0, bad, fin=False))
        started = time.monotonic()
        _assert_closed_with(ws, 1007)
        assert time.monotonic() - started < 0.5
    finally:
        ws.close()


def test_valid_prefix_waits_for_the_rest(ws_server):
    """A valid, unfinished character at the end of a fragment is not an error."""
    ws = RawWS(ws_server.port)
    euro = "€".encode()
    ws.send(frame(1, b"x" + euro[:1], fin=False))
    time.sleep(0.05)
    ws.send(frame(0, euro[1:2], fin=False))
    time.sleep(0.05)
    ws.send(frame(0, euro[2:]))
    assert ws.read_frame() == (True, 1, "x€".encode(), False)
    ws.close()


# --- the closing handshake -------------------------------------------------------

CLOSES = [
    ("no body", b"", 1000),
    *[("code %d" % c, close_body(c), c) for c in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                                1012, 1013, 1014, 3000, 3999, 4000, 4999)],
    ("code and reason", close_body(1000, "bye ü".encode()), 1000),
    ("reason of 123 bytes", close_body(1000, b"r" * 123), 1000),
]


@pytest.mark.parametrize("name,body,echoed", CLOSES, ids=[c[0] for c in CLOSES])
def test_close_is_echoed_then_tcp_closed(ws_server, name, body, echoed):
    ws = RawWS(ws_server.port)
    ws.send(frame(1, b"before") + frame(8, body) + frame(1, b"after the close"))
    assert ws.read_frame() == (True, 1, b"before", False)
    code, reason = ws.read_close()
    assert code == echoed and reason == b""
    assert ws.eof(1.0)
    ws.close()


def test_close_inside_a_fragmented_message(ws_server):
    ws = RawWS(ws_server.port)
    ws.send(frame(1, b"half", fin=False) + frame(8, close_body(1001)))
    assert ws.read_close() == (1001, b"")
    assert ws.eof(1.0)
    ws.close()


def test_server_close_waits_for_the_clients_close(ws_server):
    ws = RawWS(ws_server.port, "/strict?close=1")
    ws.send(frame(1, b"one"))
    assert ws.read_frame() == (True, 1, b"one", False)
    assert ws.read_close() == (4000, b"done")
    assert not ws.eof(0.1), "the server closed TCP before our close frame"
    ws.send(frame(8, close_body(4000)))
    assert ws.eof(1.0)
    ws.close()


def test_server_close_gives_up_after_its_timeout(ws_server):
    ws = RawWS(ws_server.port, "/strict?close=1")
    ws.send(frame(1, b"one"))
    assert ws.read_frame()[2] == b"one"
    assert ws.read_close() == (4000, b"done")
    started = time.monotonic()
    assert ws.eof(3.5)  # the handler's timeout is 2 s
    assert 1.5 < time.monotonic() - started < 3.5
    ws.close()
