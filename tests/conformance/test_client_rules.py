"""RFC 6455 rules enforced by websocket.client: a raw server sends crafted frames, we check the wire."""
import time

import pytest

from websocket import client

from .echoclient import run_echo
from .rawpeer import RawPeer, peer_factory
from .wire import close_body, frame, unmasked


@pytest.fixture
def make_peer():
    yield from peer_factory(RawPeer)


VIOLATIONS = [
    ("masked server frame", frame(1, b"hi"), 1002, "frame masked"),
    ("rsv1", unmasked(1, b"a", rsv=4), 1002, "bad RSV1, RSV2, or RSV3 bits"),
    ("opcode 3", unmasked(3, b"a"), 1002, "reserved non-control frames"),
    ("opcode 11", unmasked(11, b"a"), 1002, "reserved control frames"),
    ("ping of 126 bytes", unmasked(9, b"p" * 126), 1002, "too long payload for control frame"),
    ("fragmented ping", unmasked(9, b"p", fin=False), 1002, "fragmented control frame"),
    ("lone continuation", unmasked(0, b"x"), 1002, "unexpected continuation frame"),
    ("text inside a fragmented text", unmasked(1, b"a", fin=False) + unmasked(1, b"b"), 1002,
     "new data frame inside a fragmented message"),
    ("close body of 1 byte", unmasked(8, b"\x03"), 1002, "close frame with a body must carry a 2-byte status code"),
    ("close code 1005", unmasked(8, close_body(1005)), 1002, "invalid close code 1005"),
    ("close code 2999", unmasked(8, close_body(2999)), 1002, "invalid close code 2999"),
    ("close reason not UTF-8", unmasked(8, close_body(1000, b"\xff")), 1007, "invalid UTF-8 close reason"),
    ("text not UTF-8", unmasked(1, b"ok\xc0\xaf"), 1007, "invalid UTF-8 text payload"),
    ("continuation not UTF-8", unmasked(1, b"ok", fin=False) + unmasked(0, b"\xed\xa0\x80"), 1007,
     "invalid UTF-8 text payload"),
    ("frame over max_payload_len", unmasked(2, b"x" * 101), 1009, "exceeding max payload len"),
    ("message over max_message_len", unmasked(2, b"x" * 60, fin=False) + unmasked(0, b"x" * 60), 1009,
     "message too big"),
]


@pytest.mark.parametrize("name,script,code,err", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_client_refuses(make_peer, name, script, code, err):
    peer = make_peer(script)
    results, wb = run_echo(peer, max_payload_len=100)
    assert results[-1] == (None, None, err)
    assert peer.close_code() == code
    assert all(masked for _, _, _, masked in peer.frames), "client frames must be masked"
    assert peer.client_closed_first is False, "the client must wait for the server to close TCP"
    assert wb.recv_message() == (None, None, "fatal error already happened")


def test_utf8_fails_fast_inside_a_frame(make_peer):
    whole = unmasked(1, "κόσμε".encode() + b"\xf4\x90\x80\x80edited")
    peer = make_peer(whole[:-6])  # the frame's tail never comes
    started = time.monotonic()
    results, _ = run_echo(peer, timeout=2000)
    assert results[-1] == (None, None, "invalid UTF-8 text payload")
    assert peer.close_code() == 1007
    assert time.monotonic() - started < 1.0


CLOSES = [
    ("no body", b"", ("", "close", None), 1000),
    ("code", close_body(1001), ("", "close", 1001), 1001),
    ("code and reason", close_body(4000, "au revoir é".encode()), ("au revoir é", "close", 4000), 4000),
]


@pytest.mark.parametrize("name,body,returned,echoed", CLOSES, ids=[c[0] for c in CLOSES])
def test_client_completes_the_closing_handshake(make_peer, name, body, returned, echoed):
    peer = make_peer(unmasked(1, b"msg") + unmasked(8, body))
    results, wb = run_echo(peer)
    assert results == [("msg", "text", None), returned]
    assert [f[1] for f in peer.frames] == [1, 8]
    assert peer.close_code() == echoed
    assert peer.client_closed_first is False
    assert wb.close() == (1, None)


def test_client_waits_for_the_fin_at_most_its_timeout(make_peer):
    peer = make_peer(unmasked(8, close_body(1000)), stay_open=True)
    wb, _ = client.new(timeout=200)
    assert wb.connect(peer.url())[0] == 1
    started = time.monotonic()
    assert wb.recv_message() == ("", "close", 1000)
    assert 0.15 < time.monotonic() - started < 1.0
    assert wb.sock._sock is None  # the client closed its side


MESSAGES = [
    ("fragments joined", unmasked(1, b"ab", fin=False) + unmasked(0, b"c", fin=False) + unmasked(0, b"d"),
     [("abcd", "text", None)], [(1, b"abcd")]),
    ("binary", unmasked(2, b"\x00\xff"), [(b"\x00\xff", "binary", None)], [(2, b"\x00\xff")]),
    ("ping answered between fragments", unmasked(2, b"a", fin=False) + unmasked(9, b"hi") + unmasked(0, b"b"),
     [(b"ab", "binary", None)], [(10, b"hi"), (2, b"ab")]),
    ("pong dropped", unmasked(10, b"x") + unmasked(1, b"t"), [("t", "text", None)], [(1, b"t")]),
]


@pytest.mark.parametrize("name,script,returned,sent", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_client_messages(make_peer, name, script, returned, sent):
    peer = make_peer(script + unmasked(8, close_body(1000)))
    results, _ = run_echo(peer)
    assert results == returned + [("", "close", 1000)]
    assert [(f[1], f[2]) for f in peer.frames][:-1] == sent


def test_client_pass_pings(make_peer):
    peer = make_peer(unmasked(9, b"hi") + unmasked(10, b"yo"))
    wb, _ = client.new(timeout=300, pass_pings=True)
    assert wb.connect(peer.url())[0] == 1
    assert wb.recv_message() == (b"hi", "ping", None)
    assert wb.recv_message() == (b"yo", "pong", None)
    wb.close()
    peer.done.wait(2)
    assert [f[1] for f in peer.frames] == [8]  # no automatic pong


# --- the frame level stays upstream's unless strict=True ---

def test_recv_frame_not_strict_returns_upstreams_answers(make_peer):
    peer = make_peer(unmasked(0, b"x", fin=False) + frame(1, b"masked") + unmasked(8, close_body(1005)))
    wb, _ = client.new(timeout=300)
    assert wb.connect(peer.url())[0] == 1
    assert wb.recv_frame() == (b"x", "continuation", "again")
    assert wb.recv_frame() == ("masked", "text", None)
    assert wb.recv_frame() == ("", "close", 1005)
    wb.close()


@pytest.mark.parametrize("script,err,code", [
    (unmasked(0, b"x", fin=False), "unexpected continuation frame", 1002),
    (frame(1, b"masked"), "frame masked", 1002),
    (unmasked(8, close_body(1005)), "invalid close code 1005", 1002),
])
def test_recv_frame_strict_refuses(make_peer, script, err, code):
    peer = make_peer(script)
    wb, _ = client.new(timeout=300, strict=True)
    assert wb.connect(peer.url())[0] == 1
    assert wb.recv_frame() == (None, None, err)
    peer.done.wait(2)
    assert peer.close_code() == code


def test_recv_frame_strict_keeps_frames_and_pings(make_peer):
    peer = make_peer(unmasked(1, b"a", fin=False) + unmasked(9, b"p") + unmasked(0, b"b"))
    wb, _ = client.new(timeout=300, strict=True)
    assert wb.connect(peer.url())[0] == 1
    assert [wb.recv_frame() for _ in range(3)] == [("a", "text", "again"), (b"p", "ping", None),
                                                   ("b", "continuation", None)]
    wb.close()


def test_frame_level_close_exchange_leaves_the_ending_to_the_script(make_peer):
    """As upstream: recv_frame hands the server's close back at once; TCP stays open until close()."""
    peer = make_peer(unmasked(8, close_body(1000)))
    wb, _ = client.new(timeout=300)
    assert wb.connect(peer.url())[0] == 1
    assert wb.send_close(1000, "bye")[0] is not None
    assert wb.recv_frame() == ("", "close", 1000)
    assert wb.sock._sock is not None
    assert wb.close() == (1, None)
    assert wb.sock._sock is None
    peer.done.wait(2)
    assert peer.close_code() == 1000


def test_strict_send_close_then_recv_ends_the_connection(make_peer):
    """strict: once the server's close is read, the client waits for its FIN, then closes (RFC 6455 7.1.1)."""
    peer = make_peer(unmasked(8, close_body(1000)))
    wb, _ = client.new(timeout=300, strict=True)
    assert wb.connect(peer.url())[0] == 1
    assert wb.send_close(1000, "bye")[0] is not None
    assert wb.recv_frame() == ("", "close", 1000)
    assert wb.sock._sock is None
    peer.done.wait(2)
    assert peer.close_code() == 1000 and peer.client_closed_first is False
    assert wb.close() == (1, None)


# --- subprotocols ---

@pytest.mark.parametrize("offered,answer,ok,protocol", [
    (["a", "b"], "b", True, "b"),
    (["a", "b"], "a,b", True, "a,b"),  # an upstream server copies the whole list back
    (["a"], "z", False, None),
    (None, "z", False, None),
    (["a"], None, True, None),
])
def test_client_checks_the_chosen_protocol(make_peer, offered, answer, ok, protocol):
    peer = make_peer(b"", protocol=answer)
    wb, _ = client.new(timeout=300)
    res = wb.connect(peer.url(), protocols=offered)
    if ok:
        assert res[0] == 1 and wb.protocol == protocol
        wb.close()
    else:
        assert res[:2] == (None, 'bad "sec-websocket-protocol" response header: %s' % answer)
