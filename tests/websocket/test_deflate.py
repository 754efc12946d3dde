"""websocket.deflate: negotiation (RFC 7692 section 7) and per-message compression, sans-I/O."""
import os
import random
import zlib

import pytest

from websocket import deflate
from websocket.deflate import (Agreement, InflateError, Options, PerMessageDeflate, compress_message,
                               parse_extensions)


# ---------------------------------------------------------------- parsing
def test_parse_one_offer_without_params():
    assert parse_extensions("permessage-deflate") == [("permessage-deflate", [])]


def test_parse_several_offers_in_one_header_and_several_headers():
    got = parse_extensions(["permessage-deflate; client_max_window_bits, permessage-deflate",
                            "x-webkit-deflate-frame ;  no_context_takeover", "foo;a=1;b"])
    assert got == [("permessage-deflate", [("client_max_window_bits", None)]),
                   ("permessage-deflate", []),
                   ("x-webkit-deflate-frame", [("no_context_takeover", None)]),
                   ("foo", [("a", "1"), ("b", None)])]


def test_parse_quoted_values_and_case():
    got = parse_extensions('Permessage-Deflate; Server_Max_Window_Bits="10" ; client_max_window_bits = "9"')
    assert got == [("permessage-deflate", [("server_max_window_bits", "10"), ("client_max_window_bits", "9")])]


def test_parse_quoted_escape():
    assert parse_extensions('x; a="1\\0"') == [("x", [("a", "10")])]


def test_parse_bytes_and_empty_elements():
    assert parse_extensions(b", permessage-deflate ,,") == [("permessage-deflate", [])]


@pytest.mark.parametrize("bad", ['permessage-deflate; a="1', 'permessage-deflate; a="1 2"', "a b",
                                 "permessage-deflate; =1", "permessage-deflate;", 'x; a=""', "x; a=1=2"])
def test_parse_malformed(bad):
    with pytest.raises(ValueError):
        parse_extensions(bad)


# ---------------------------------------------------------------- server choice
def accept(offer, **opts):
    return Options(**opts).accept(offer)


def test_server_accepts_plain_offer():
    agreement, header = accept("permessage-deflate")
    assert header == "permessage-deflate"
    assert agreement == Agreement()
    assert agreement.as_dict() == {"server_no_context_takeover": False, "client_no_context_takeover": False,
                                   "server_max_window_bits": 15, "client_max_window_bits": 15}


def test_server_no_header_or_other_extension_declines():
    assert accept(None) == (None, None)
    assert accept("") == (None, None)
    assert accept("x-webkit-deflate-frame") == (None, None)


def test_server_malformed_header_declines():
    assert accept('permessage-deflate; a="') == (None, None)


@pytest.mark.parametrize("offer", [
    "permessage-deflate; foo",  # unknown
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  # repeated
    "permessage-deflate; client_max_window_bits=10; client_max_window_bits",  # repeated
    "permessage-deflate; server_max_window_bits",  # needs a value
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=010",  # not exactly 8..15
    "permessage-deflate; client_max_window_bits=0",
    "permessage-deflate; client_max_window_bits=a",
    "permessage-deflate; server_no_context_takeover=1",  # a flag with a value
])
def test_server_declines_bad_offer(offer):
    assert accept(offer) == (None, None)


def test_server_takes_first_acceptable_offer():
    agreement, header = accept("permessage-deflate; server_max_window_bits=16, "
                               "permessage-deflate; server_max_window_bits=10; client_no_context_takeover, "
                               "permessage-deflate")
    assert header == "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"
    assert agreement.server_max_window_bits == 10 and agreement.client_no_context_takeover


def test_server_skips_other_extensions_before():
    _, header = accept(["foo; bar", "permessage-deflate; server_no_context_takeover"])
    assert header == "permessage-deflate; server_no_context_takeover"


def test_server_own_no_context_takeover_and_window():
    agreement, header = accept("permessage-deflate", server_no_context_takeover=True,
                               client_no_context_takeover=True, server_max_window_bits=11)
    assert header == ("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                      "server_max_window_bits=11")
    assert agreement == Agreement(True, True, 11, 15)


def test_server_window_is_the_smaller_of_offer_and_own():
    assert accept("permessage-deflate; server_max_window_bits=12", server_max_window_bits=10)[0] \
        .server_max_window_bits == 10
    assert accept("permessage-deflate; server_max_window_bits=9", server_max_window_bits=10)[0] \
        .server_max_window_bits == 9


def test_server_client_window_applied_only_when_offered():
    agreement, header = accept("permessage-deflate; client_max_window_bits", client_max_window_bits=10)
    assert header == "permessage-deflate; client_max_window_bits=10"
    assert agreement.client_max_window_bits == 10
    # not offered: still accepted, the client keeps 15 bits and the response says nothing of it
    agreement, header = accept("permessage-deflate", client_max_window_bits=10)
    assert header == "permessage-deflate" and agreement.client_max_window_bits == 15
    # offered with a smaller value than ours: the client's value holds
    agreement, header = accept("permessage-deflate; client_max_window_bits=9", client_max_window_bits=10)
    assert header == "permessage-deflate; client_max_window_bits=9"
    # offered with a value, no preference of ours
    assert accept("permessage-deflate; client_max_window_bits=12")[0].client_max_window_bits == 12
    # offered without a value, no preference of ours: 15, not mentioned
    assert accept("permessage-deflate; client_max_window_bits") == (Agreement(), "permessage-deflate")


def test_server_accepts_window_8():
    agreement, header = accept("permessage-deflate; server_max_window_bits=8; client_max_window_bits=8")
    assert header == "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8"
    assert (agreement.server_max_window_bits, agreement.client_max_window_bits) == (8, 8)


# ---------------------------------------------------------------- client offer and response
def test_client_default_offer():
    assert Options().offer() == "permessage-deflate; client_max_window_bits"


def test_client_full_offer():
    o = Options(server_no_context_takeover=True, client_no_context_takeover=True, server_max_window_bits=10,
                client_max_window_bits=9)
    assert o.offer() == ("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                         "server_max_window_bits=10; client_max_window_bits=9")
    assert Options(client_max_window_bits=None).offer() == "permessage-deflate"


def test_client_offer_roundtrips_through_server():
    o = Options(server_no_context_takeover=True, server_max_window_bits=12, client_max_window_bits=11)
    agreement, header = Options().accept(o.offer())
    mine, err = o.check_response(header)
    assert err is None and mine == agreement == Agreement(True, False, 12, 11)


def test_client_response_absent_means_nothing_agreed():
    assert Options().check_response(None) == (None, None)
    assert Options().check_response([]) == (None, None)


@pytest.mark.parametrize("opts,response,err", [
    ({}, "x-foo", "server accepted an extension not offered: x-foo"),
    ({}, "permessage-deflate, permessage-deflate", "server accepted more than one extension"),
    ({}, "permessage-deflate; foo", "bad permessage-deflate parameters in the response"),
    ({}, "permessage-deflate; client_max_window_bits", "bad permessage-deflate parameters in the response"),
    ({}, "permessage-deflate; server_max_window_bits=16", "bad permessage-deflate parameters in the response"),
    ({}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
     "bad permessage-deflate parameters in the response"),
    ({}, 'permessage-deflate; a="', "bad Sec-WebSocket-Extensions response header"),
    ({"client_max_window_bits": None}, "permessage-deflate; client_max_window_bits=10",
     "permessage-deflate response has client_max_window_bits, not offered"),
    ({"client_max_window_bits": 10}, "permessage-deflate; client_max_window_bits=11",
     "permessage-deflate response exceeds client_max_window_bits=10"),
    ({"server_max_window_bits": 10}, "permessage-deflate",
     "permessage-deflate response exceeds server_max_window_bits=10"),
    ({"server_max_window_bits": 10}, "permessage-deflate; server_max_window_bits=12",
     "permessage-deflate response exceeds server_max_window_bits=10"),
    ({"server_no_context_takeover": True}, "permessage-deflate",
     "permessage-deflate response lacks server_no_context_takeover"),
])
def test_client_refuses_bad_response(opts, response, err):
    assert Options(**opts).check_response(response) == (None, err)


def test_client_accepts_what_the_server_may_add():
    agreement, err = Options().check_response(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=9; client_max_window_bits=8")
    assert err is None and agreement == Agreement(True, True, 9, 8)


def test_client_keeps_its_own_limits_when_response_is_silent():
    agreement, err = Options(client_max_window_bits=10, client_no_context_takeover=True).check_response(
        "permessage-deflate")
    assert err is None and agreement == Agreement(False, True, 15, 10)


# ---------------------------------------------------------------- options
def test_options_from_option():
    assert Options.from_option(None) is None and Options.from_option(False) is None
    assert isinstance(Options.from_option(True), Options)
    o = Options.from_option({"server_max_window_bits": 9, "level": 1, "mem_level": 4})
    assert (o.server_max_window_bits, o.level, o.mem_level) == (9, 1, 4)


@pytest.mark.parametrize("bad", [{"foo": 1}, {"server_max_window_bits": 16}, {"server_max_window_bits": True},
                                 {"client_max_window_bits": 7}, {"level": 10}, {"mem_level": 0}, 3])
def test_options_refuse_bad_settings(bad):
    with pytest.raises(ValueError):
        Options.from_option(bad)


# ---------------------------------------------------------------- compression
TEXT = b'{"id": 12345, "name": "a user name", "tags": ["alpha", "beta", "gamma"], "ok": true}'


def pair(agreement=None, **kw):
    agreement = agreement or Agreement()
    return PerMessageDeflate(agreement, True, **kw), PerMessageDeflate(agreement, False, **kw)


def test_empty_message_is_one_zero_byte():
    server, client = pair()
    assert server.compress(b"") == b"\x00"
    assert client.inflate(b"\x00", True) == b""


def test_known_vector_from_rfc():
    # RFC 7692 section 7.2.3.1: "Hello" compressed
    _, client = pair()
    assert client.inflate(bytes.fromhex("f248cdc9c90700"), True) == b"Hello"


def test_rfc_vector_uncompressed_block():
    _, client = pair()
    assert client.inflate(bytes.fromhex("000500faff48656c6c6f00"), True) == b"Hello"


def test_rfc_vector_bfinal_block():
    # a deflate block with BFINAL set (RFC 7692 section 7.2.3.3) and nothing after it
    _, client = pair()
    assert client.inflate(bytes.fromhex("f348cdc9c90700"), True) == b"Hello"
    assert client.inflate(bytes.fromhex("f348cdc9c90700"), True) == b"Hello"  # a fresh stream next


def test_compress_strips_tail_and_roundtrips():
    server, client = pair()
    payload = server.compress(TEXT)
    assert not payload.endswith(b"\x00\x00\xff\xff")
    assert len(payload) < len(TEXT)
    assert client.inflate(payload, True) == TEXT


def test_context_takeover_makes_repeats_smaller():
    server, client = pair()
    first = server.compress(TEXT)
    second = server.compress(TEXT)
    assert len(second) < len(first)
    assert client.inflate(first, True) == TEXT
    assert client.inflate(second, True) == TEXT
    # a fresh inflater cannot read the second message: it refers to the first
    _, fresh = pair()
    with pytest.raises(InflateError) as info:
        fresh.inflate(second, True)
    assert info.value.code == 1007


@pytest.mark.parametrize("side", ["server", "client"])
def test_no_context_takeover_makes_every_message_standalone(side):
    agreement = Agreement(server_no_context_takeover=side == "server",
                          client_no_context_takeover=side == "client")
    server, client = pair(agreement)
    sender, receiver = (server, client) if side == "server" else (client, server)
    first = sender.compress(TEXT)
    second = sender.compress(TEXT)
    assert first == second
    assert receiver.inflate(second, True) == TEXT
    assert receiver.inflate(first, True) == TEXT
    # a standalone payload is what compress_message gives
    assert compress_message(TEXT) == first
    assert sender.can_share(15)


def test_receiver_without_takeover_refuses_references_to_previous_message():
    # the peer promised no context takeover but refers to its previous message
    _, strict_client = pair(Agreement(server_no_context_takeover=True))
    liar, _ = pair()
    first, second = liar.compress(TEXT), liar.compress(TEXT)
    assert strict_client.inflate(first, True) == TEXT
    with pytest.raises(InflateError) as info:
        strict_client.inflate(second, True)
    assert info.value.code == 1007


def test_can_share_only_without_takeover_and_with_room():
    assert not pair()[0].can_share()
    server, _ = pair(Agreement(server_no_context_takeover=True, server_max_window_bits=10))
    assert server.can_share(10) and server.can_share(9) and not server.can_share(11)


@pytest.mark.parametrize("bits", range(8, 16))
@pytest.mark.parametrize("takeover", [True, False])
def test_every_window_size_roundtrips(bits, takeover):
    agreement = Agreement(not takeover, not takeover, bits, bits)
    server, client = pair(agreement)
    rnd = random.Random(bits)
    words = [bytes(rnd.choice(b"abcdefgh") for _ in range(rnd.randint(2, 9))) for _ in range(60)]
    for n in range(5):
        msg = b" ".join(rnd.choice(words) for _ in range(3000))
        assert client.inflate(server.compress(msg), True) == msg
        assert server.inflate(client.compress(msg), True) == msg


@pytest.mark.parametrize("bits", range(9, 15))
def test_window_bigger_than_agreed_is_refused(bits):
    # a peer compressing with a bigger window than agreed refers to bytes of its previous message
    # that our window no longer holds (within one call zlib resolves distances against its output)
    big = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = os.urandom(1 << bits)
    first = (big.compress(block + os.urandom(100)) + big.flush(zlib.Z_SYNC_FLUSH))[:-4]
    second = (big.compress(block) + big.flush(zlib.Z_SYNC_FLUSH))[:-4]
    _, client = pair(Agreement(server_max_window_bits=bits))
    client.inflate(first, True)
    with pytest.raises(InflateError) as info:
        client.inflate(second, True)
    assert info.value.code == 1007


def test_window_8_compresses_with_9_within_256_byte_distances():
    # zlib refuses an 8-bit raw window for deflate: 9 is used, and stays readable with an 8-bit window
    server, client = pair(Agreement(server_max_window_bits=8, client_max_window_bits=8))
    rnd = random.Random(8)
    plain = zlib.decompressobj(-8)
    for _ in range(20):
        msg = bytes(rnd.choice(b"abcdefghij") for _ in range(5000))
        payload = server.compress(msg)
        assert plain.decompress(payload + b"\x00\x00\xff\xff") == msg
        assert client.inflate(payload, True) == msg


def test_level_and_mem_level_knobs():
    data = TEXT * 50
    fast, _ = pair(level=1, mem_level=1)
    best, _ = pair(level=9, mem_level=9)
    stored, client = pair(level=0)
    assert len(stored.compress(data)) > len(data)  # level 0: stored blocks
    assert client.inflate(stored.compress(data), True) == data
    assert len(best.compress(data)) <= len(fast.compress(data))


def test_inflate_fragment_by_fragment():
    server, client = pair()
    msg = TEXT * 200
    payload = server.compress(msg)
    out = []
    for i in range(0, len(payload), 7):
        chunk = payload[i:i + 7]
        out.append(client.inflate(chunk, i + 7 >= len(payload)))
    assert b"".join(out) == msg
    assert any(out[:-1])  # bytes come back before the last fragment


def test_inflate_empty_fragments():
    server, client = pair()
    payload = server.compress(TEXT)
    assert client.inflate(b"", False) == b""
    assert client.inflate(payload, False) + client.inflate(b"", True) == TEXT


def test_inflate_limit_exact_fits():
    server, client = pair()
    msg = b"a" * 10000
    assert client.inflate(server.compress(msg), True, limit=10000) == msg


def test_inflate_limit_one_over_is_1009():
    server, client = pair()
    with pytest.raises(InflateError) as info:
        client.inflate(server.compress(b"a" * 10001), True, limit=10000)
    assert info.value.code == 1009


def test_bomb_is_stopped_without_inflating_it():
    # 1 GiB of zeros in about a megabyte: inflating must stop at the limit
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = c.compress(b"\0" * (1 << 20))
    parts = [chunk] + [c.compress(b"\0" * (1 << 20)) for _ in range(20)]
    payload = b"".join(parts)
    _, client = pair()
    import tracemalloc
    tracemalloc.start()
    try:
        with pytest.raises(InflateError) as info:
            client.inflate(payload, False, limit=1 << 16)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == 1009
    # 21 MiB would come out: the peak stays at the limit (its output blocks joined once), the input
    # (copied once into zlib's unconsumed tail) and zlib's window and state
    assert peak < 2 * (1 << 16) + 2 * len(payload) + (1 << 16)


def test_bomb_across_fragments_respects_per_call_limit():
    server, client = pair()
    payload = server.compress(b"\0" * 100000)
    half = len(payload) // 2
    first = client.inflate(payload[:half], False, limit=100000)
    with pytest.raises(InflateError) as info:
        client.inflate(payload[half:], True, limit=100000 - len(first) - 1)
    assert info.value.code == 1009


def test_limit_applies_to_the_tail_flush():
    # the bytes released by the appended tail count too
    server, client = pair()
    msg = os.urandom(3000)
    payload = server.compress(msg)
    with pytest.raises(InflateError) as info:
        client.inflate(payload, True, limit=len(msg) - 1)
    assert info.value.code == 1009


@pytest.mark.parametrize("payload", [
    b"\xff\xff\xff\xff",  # reserved block type
    bytes.fromhex("0005000000"),  # LEN/NLEN mismatch
    b"\x07" + b"\x00" * 10,
])
def test_corrupted_streams_are_1007(payload):
    _, client = pair()
    with pytest.raises(InflateError) as info:
        client.inflate(payload, True)
    assert info.value.code == 1007


def test_data_after_final_block_is_1007():
    _, client = pair()
    with pytest.raises(InflateError) as info:
        client.inflate(bytes.fromhex("f348cdc9c90700") + b"junk", True)
    assert info.value.code == 1007


def test_after_an_error_the_next_message_starts_fresh():
    server, client = pair(Agreement(server_no_context_takeover=True))
    with pytest.raises(InflateError):
        client.inflate(b"\xff\xff", True)
    assert client.inflate(server.compress(TEXT), True) == TEXT


def test_decompressor_is_dropped_between_messages_without_takeover():
    server, client = pair(Agreement(server_no_context_takeover=True))
    client.inflate(server.compress(TEXT), False)
    assert client.zlib_state() == (False, True)
    client.inflate(b"", True)
    assert client.zlib_state() == (False, False)


def test_nothing_allocated_before_first_use():
    server, _ = pair()
    assert server.zlib_state() == (False, False)


@pytest.mark.parametrize("takeover", [True, False])
def test_compressor_kept_only_with_context_takeover(takeover):
    server, client = pair(Agreement(server_no_context_takeover=not takeover))
    client.inflate(server.compress(TEXT), True)
    assert server.zlib_state() == (takeover, False)
    assert client.zlib_state() == (False, takeover)


def test_random_messages_fuzz_roundtrip():
    rnd = random.Random(1)
    for takeover in (True, False):
        server, client = pair(Agreement(not takeover, not takeover, rnd.randint(8, 15), rnd.randint(8, 15)))
        for _ in range(50):
            n = rnd.choice([0, 1, 2, 100, 5000, 70000])
            msg = bytes(rnd.getrandbits(3) + 97 for _ in range(n))
            payload = client.compress(msg)
            cut = sorted(rnd.randint(0, len(payload)) for _ in range(3))
            pieces = [payload[:cut[0]], payload[cut[0]:cut[1]], payload[cut[1]:cut[2]], payload[cut[2]:]]
            got = b"".join(server.inflate(p, i == 3, limit=n) for i, p in enumerate(pieces))
            assert got == msg


def test_module_constants():
    assert deflate.EXTENSION == "permessage-deflate"
    assert (deflate.CLOSE_INVALID_PAYLOAD, deflate.CLOSE_TOO_BIG) == (1007, 1009)


def test_server_defaults_bound_memory():
    o = Options.from_option(True, server=True)
    assert (o.server_max_window_bits, o.client_max_window_bits, o.mem_level) == (12, 12, 5)
    agreement, header = o.accept(Options().offer())
    assert header == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    # a setting given overrides its default only
    o = Options.from_option({"server_max_window_bits": None, "level": 1}, server=True)
    assert (o.server_max_window_bits, o.client_max_window_bits, o.mem_level, o.level) == (None, 12, 5, 1)
    c = Options.from_option(True)
    assert (c.server_max_window_bits, c.client_max_window_bits, c.mem_level) == (None, True, 8)


# ---------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_bits = st.one_of(st.none(), st.integers(8, 15))
_options = st.fixed_dictionaries({
    "server_no_context_takeover": st.booleans(),
    "client_no_context_takeover": st.booleans(),
    "server_max_window_bits": _bits,
    "client_max_window_bits": st.one_of(st.just(True), _bits),
})


@settings(max_examples=300, deadline=None)
@given(client_opts=_options, server_opts=_options)
def test_any_offer_of_ours_is_accepted_by_our_server_and_the_answer_by_our_client(client_opts, server_opts):
    offer = Options(**client_opts).offer()
    agreement, header = Options(**server_opts).accept(offer)
    assert agreement is not None
    mine, err = Options(**client_opts).check_response(header)
    assert err is None
    assert mine == agreement
    # what was agreed honours both sides
    for side in ("server", "client"):
        for opts in (client_opts, server_opts):
            bits = opts["%s_max_window_bits" % side]
            if side == "server" and bits is not None:
                assert getattr(agreement, "server_max_window_bits") <= bits
        if client_opts["%s_no_context_takeover" % side] or server_opts["%s_no_context_takeover" % side]:
            assert getattr(agreement, "%s_no_context_takeover" % side)
    if type(client_opts["client_max_window_bits"]) is int:
        assert agreement.client_max_window_bits <= client_opts["client_max_window_bits"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('abc-_=;,"\\ \t089')), max_size=60))
def test_parser_never_fails_otherwise_than_with_value_error(header):
    try:
        parse_extensions(header)
    except ValueError:
        pass
    Options().accept(header)  # declines or accepts, never raises
    Options().check_response(header)


@pytest.mark.parametrize("opts,message", [
    ({"server_max_window_bits": True}, "bad server_max_window_bits: True (8..15 or None)"),
    ({"server_max_window_bits": 16}, "bad server_max_window_bits: 16 (8..15 or None)"),
    ({"client_max_window_bits": 7}, "bad client_max_window_bits: 7 (8..15, True or None)"),
    ({"level": 10}, "bad level: 10 (-1..9)"),
])
def test_bad_settings_name_what_is_accepted(opts, message):
    with pytest.raises(ValueError) as info:
        Options(**opts)
    assert str(info.value) == message
