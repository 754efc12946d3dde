"""permessage-deflate (RFC 7692) in websocket.client: a raw server answers the handshake and sends crafted frames."""
import os
import zlib

import pytest

from websocket import client

from . import echoclient
from .deflatewire import DeflatePeer, Inflater, deflate
from .rawpeer import peer_factory
from .wire import close_body, unmasked

AGREED = "permessage-deflate"
TEXT = ('{"op": "update", "items": [%s]}' % ", ".join('{"n": %d}' % i for i in range(200))).encode()


@pytest.fixture
def make_peer():
    yield from peer_factory(DeflatePeer)


def connect(peer, **opts):
    """echoclient.connect with permessage_deflate=True unless given."""
    opts.setdefault("permessage_deflate", True)
    return echoclient.connect(peer, **opts)


def run_echo(peer, **opts):
    """echoclient.run_echo with permessage_deflate=True unless given."""
    opts.setdefault("permessage_deflate", True)
    return echoclient.run_echo(peer, **opts)


# ---------------------------------------------------------------- negotiation
@pytest.mark.parametrize("option,offer", [
    (True, "permessage-deflate; client_max_window_bits"),
    ({"server_no_context_takeover": True, "client_no_context_takeover": True, "server_max_window_bits": 10,
      "client_max_window_bits": 9},
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
     "client_max_window_bits=9"),
    (None, None),
])
def test_client_offer(make_peer, option, offer):
    peer = make_peer(None)
    wb, ok, err = connect(peer, permessage_deflate=option)
    assert ok == 1, err
    peer.done.wait(2)
    assert peer.request_extensions == offer
    assert wb.extensions is None and wb.permessage_deflate is None


def test_client_off_by_default(make_peer):
    peer = make_peer(None)
    wb, _ = client.new(timeout=500)
    assert wb.connect(peer.url())[0] == 1
    peer.done.wait(2)
    assert peer.request_extensions is None


@pytest.mark.parametrize("response,err", [
    ("x-foo", "server accepted an extension not offered: x-foo"),
    ("permessage-deflate; foo", "bad permessage-deflate parameters in the response"),
    ("permessage-deflate; client_max_window_bits", "bad permessage-deflate parameters in the response"),
    ("permessage-deflate; server_max_window_bits=16", "bad permessage-deflate parameters in the response"),
    ("permessage-deflate, permessage-deflate", "server accepted more than one extension"),
])
def test_client_refuses_a_bad_response(make_peer, response, err):
    peer = make_peer(response)
    wb, ok, got = connect(peer)
    assert ok is None
    assert got == err


def test_client_refuses_an_unoffered_extension_when_off(make_peer):
    peer = make_peer(AGREED)
    wb, ok, err = connect(peer, permessage_deflate=None)
    assert ok is None
    assert err == "server accepted an extension not offered: permessage-deflate"


def test_client_refuses_a_window_it_asked_to_limit(make_peer):
    peer = make_peer("permessage-deflate; server_max_window_bits=12")
    wb, ok, err = connect(peer, permessage_deflate={"server_max_window_bits": 10})
    assert ok is None
    assert err == "permessage-deflate response exceeds server_max_window_bits=10"


def test_client_exposes_what_was_agreed(make_peer):
    response = "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
    peer = make_peer(response)
    wb, ok, err = connect(peer)
    assert ok == 1, err
    assert wb.extensions == response
    assert wb.permessage_deflate == {"server_no_context_takeover": True, "client_no_context_takeover": False,
                                     "server_max_window_bits": 15, "client_max_window_bits": 10}


# ---------------------------------------------------------------- messages
def test_client_inflates_and_compresses_with_takeover(make_peer):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    script = b"".join(unmasked(1, deflate(TEXT + b"%d" % i, compressor=c), rsv=4) for i in range(3))
    peer = make_peer(AGREED, script + unmasked(8, close_body(1000)))
    results, _ = run_echo(peer)
    assert results == [((TEXT + b"%d" % i).decode(), "text", None) for i in range(3)] + [("", "close", 1000)]
    inflater = Inflater(15)
    sent = [f for f in peer.frames if f[2] == 1]
    assert [f[1] for f in sent] == [4, 4, 4]  # RSV1 on each compressed message
    assert [inflater.message(f[3]) for f in sent] == [TEXT + b"%d" % i for i in range(3)]
    assert len(sent[1][3]) < len(sent[0][3]) / 2
    assert peer.frames[-1][1] == 0  # the close frame: no RSV1


def test_client_no_context_takeover_and_window(make_peer):
    peer = make_peer("permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
                     unmasked(2, deflate(TEXT), rsv=4) * 2 + unmasked(8, close_body(1000)))
    results, _ = run_echo(peer)
    assert results[:2] == [(TEXT, "binary", None)] * 2
    sent = [f[3] for f in peer.frames if f[2] == 2]
    assert sent[0] == sent[1]
    assert Inflater(9, takeover=False).message(sent[1]) == TEXT


def test_client_fragmented_compressed_message(make_peer):
    payload = deflate(TEXT)
    script = unmasked(1, payload[:3], fin=False, rsv=4) + unmasked(9, b"p") + unmasked(0, payload[3:])
    peer = make_peer(AGREED, script + unmasked(8, close_body(1000)))
    results, _ = run_echo(peer)
    assert results[0] == (TEXT.decode(), "text", None)


def test_client_recv_frame_inflates_fragment_by_fragment(make_peer):
    payload = deflate(TEXT * 4)
    half = len(payload) // 2
    peer = make_peer(AGREED, unmasked(1, payload[:half], fin=False, rsv=4) + unmasked(0, payload[half:]))
    wb, ok, err = connect(peer, strict=True)
    assert ok == 1, err
    first = wb.recv_frame()
    second = wb.recv_frame()
    assert first[1:] == ("text", "again") and second[1:] == ("continuation", None)
    assert first[0] and first[0] + second[0] == (TEXT * 4).decode()


def test_client_send_uncompressed_on_request(make_peer):
    peer = make_peer(AGREED)
    wb, ok, err = connect(peer)
    assert ok == 1, err
    wb.send_text("plain", compress=False)
    wb.send_binary(b"packed")
    wb.close()
    peer.done.wait(2)
    assert [(f[1], f[2]) for f in peer.frames[:2]] == [(0, 1), (4, 2)]
    assert peer.frames[0][3] == b"plain" and Inflater().message(peer.frames[1][3]) == b"packed"


# ---------------------------------------------------------------- refusals
VIOLATIONS = [
    ("rsv1 without negotiation", None, unmasked(1, deflate(b"a"), rsv=4), 1002),
    ("rsv1 on a continuation", AGREED, unmasked(1, deflate(b"ab"), fin=False, rsv=4) + unmasked(0, b"", rsv=4), 1002),
    ("rsv1 on a ping", AGREED, unmasked(9, b"", rsv=4), 1002),
    ("rsv1 on a close", AGREED, unmasked(8, close_body(1000), rsv=4), 1002),
    ("rsv2", AGREED, unmasked(1, deflate(b"a"), rsv=2), 1002),
    ("bad stream", AGREED, unmasked(2, b"\xff\xff\xff", rsv=4), 1007),
    ("inflated text not UTF-8", AGREED, unmasked(1, deflate(b"\xc0\xaf"), rsv=4), 1007),
    ("bomb", AGREED, unmasked(2, deflate(b"\0" * (8 << 20)), rsv=4), 1009),
]


@pytest.mark.parametrize("name,response,script,code", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_client_violations(make_peer, name, response, script, code):
    peer = make_peer(response, script)
    results, _ = run_echo(peer, max_payload_len=65536)
    assert results[-1][0] is None
    assert peer.close_code() == code


def test_client_bomb_error_string(make_peer):
    peer = make_peer(AGREED, unmasked(2, deflate(b"\0" * (1 << 20)), rsv=4))
    results, _ = run_echo(peer, max_payload_len=4096)
    assert results == [(None, None, "exceeding max payload len")]


def test_client_window_larger_than_agreed_is_1007(make_peer):
    big = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = os.urandom(4096)
    script = (unmasked(2, deflate(block + os.urandom(600), compressor=big), rsv=4)
              + unmasked(2, deflate(block, compressor=big), rsv=4))
    peer = make_peer("permessage-deflate; server_max_window_bits=9", script)
    results, _ = run_echo(peer)
    assert results[0][0] == block + results[0][0][4096:]
    assert results[-1][0] is None
    assert peer.close_code() == 1007
