"""websocket.deflate against the `websockets` package's own permessage-deflate, byte for byte (no sockets)."""
import random

import pytest

from websocket.deflate import Options, PerMessageDeflate

pytest.importorskip("websockets", reason="the `websockets` package (test extra) is not installed")
from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,  # noqa: E402
                                                      ServerPerMessageDeflateFactory)
from websockets.frames import Frame, Opcode  # noqa: E402
from websockets.headers import build_extension, parse_extension  # noqa: E402

SETTINGS = [
    {},
    {"server_no_context_takeover": True},
    {"client_no_context_takeover": True},
    {"server_no_context_takeover": True, "client_no_context_takeover": True},
    {"server_max_window_bits": 10},
    {"client_max_window_bits": 9},
    {"server_max_window_bits": 9, "client_max_window_bits": 12},
    {"server_max_window_bits": 15, "client_max_window_bits": 15, "client_no_context_takeover": True},
]


def messages(seed):
    rnd = random.Random(seed)
    words = [bytes(rnd.choice(b"abcdefghijklmnop") for _ in range(rnd.randint(2, 8))) for _ in range(80)]
    out = [b"", b"x", b'{"op": "ping"}']
    for n in (10, 300, 5000, 70000):
        out.append(b" ".join(rnd.choice(words) for _ in range(n // 5)))
    out.append(bytes(rnd.getrandbits(8) for _ in range(3000)))
    return out * 2


def exchange(ours: PerMessageDeflate, theirs, seed):
    """Both directions, context carried across messages: our payloads decode there and theirs here."""
    for msg in messages(seed):
        frame = theirs.decode(Frame(Opcode.BINARY, ours.compress(msg), rsv1=True))
        assert frame.data == msg
        encoded = theirs.encode(Frame(Opcode.BINARY, msg))
        assert encoded.rsv1
        assert ours.inflate(encoded.data, True) == msg


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join("%s=%s" % kv for kv in s.items()) or "plain")
def test_websockets_client_our_server(settings):
    client = ClientPerMessageDeflateFactory(**settings)
    offer = build_extension([(client.name, client.get_request_params())])
    agreement, response = Options().accept(offer)
    assert agreement is not None
    [(name, params)] = parse_extension(response)
    theirs = client.process_response_params(params, [])
    exchange(PerMessageDeflate(agreement, True), theirs, 1)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join("%s=%s" % kv for kv in s.items()) or "plain")
def test_our_client_websockets_server(settings):
    ours = Options(**settings)
    server = ServerPerMessageDeflateFactory()
    [(name, params)] = parse_extension(ours.offer())
    response_params, theirs = server.process_request_params(params, [])
    agreement, err = ours.check_response(build_extension([(name, response_params)]))
    assert err is None, err
    exchange(PerMessageDeflate(agreement, False), theirs, 2)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join("%s=%s" % kv for kv in s.items()) or "plain")
def test_our_server_settings_with_websockets_client(settings):
    # our server's own preferences, a default websockets client
    client = ClientPerMessageDeflateFactory()
    offer = build_extension([(client.name, client.get_request_params())])
    agreement, response = Options(**settings).accept(offer)
    [(name, params)] = parse_extension(response)
    theirs = client.process_response_params(params, [])
    exchange(PerMessageDeflate(agreement, True), theirs, 3)


def test_websockets_server_preferences_with_our_client():
    server = ServerPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True,
                                            server_max_window_bits=10, client_max_window_bits=9)
    ours = Options()
    [(name, params)] = parse_extension(ours.offer())
    response_params, theirs = server.process_request_params(params, [])
    agreement, err = ours.check_response(build_extension([(name, response_params)]))
    assert err is None
    assert agreement.as_dict() == {"server_no_context_takeover": True, "client_no_context_takeover": True,
                                   "server_max_window_bits": 10, "client_max_window_bits": 9}
    exchange(PerMessageDeflate(agreement, False), theirs, 4)
