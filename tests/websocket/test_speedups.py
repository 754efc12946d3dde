"""websocket._speedups (the optional C extension) against the pure-Python reference in websocket.protocol."""
import os
import struct

import pytest

from websocket import protocol

if os.environ.get("CI"):
    import websocket._speedups as speedups  # CI has a compiler: a missing extension is a failure there
else:
    speedups = pytest.importorskip("websocket._speedups",
                                   reason="C extension not built: no C compiler (pure-Python fallback in use)")

# Once protocol.py uses the C version, it keeps the pure-Python one as py_apply_mask.
py_apply_mask = getattr(protocol, "py_apply_mask", protocol.apply_mask)


def test_reference_is_the_pure_python_version():
    assert py_apply_mask is not speedups.apply_mask

KEYS = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x12\x34\x56\x78", os.urandom(4)]
LENGTHS = list(range(0, 70)) + [125, 126, 127, 4095, 4096, 4097, 16383, 16384, 16385, 65536 + 3]


@pytest.mark.parametrize("key", KEYS)
def test_apply_mask_matches_python_for_every_length(key):
    data = os.urandom(max(LENGTHS))
    for n in LENGTHS:
        assert speedups.apply_mask(data[:n], key) == py_apply_mask(data[:n], key), n


def test_apply_mask_any_alignment_and_buffer_type():
    key = b"\xa1\xb2\xc3\xd4"
    block = bytearray(os.urandom(300))
    view = memoryview(block)
    for offset in range(9):
        for n in (0, 1, 7, 8, 9, 31, 32, 33, 100, 291 - offset):
            piece = view[offset:offset + n]
            want = py_apply_mask(bytes(piece), key)
            assert speedups.apply_mask(piece, key) == want
            assert speedups.apply_mask(bytearray(piece), memoryview(key)) == want
            assert speedups.apply_mask(bytes(piece), bytearray(key)) == want


def test_apply_mask_returns_bytes_and_round_trips():
    data = os.urandom(1000)
    key = os.urandom(4)
    masked = speedups.apply_mask(data, key)
    assert type(masked) is bytes and masked != data
    assert speedups.apply_mask(masked, key) == data


def test_apply_mask_rejects_bad_arguments():
    with pytest.raises(ValueError):
        speedups.apply_mask(b"abc", b"abc")
    with pytest.raises(TypeError):
        speedups.apply_mask("text", b"abcd")
    with pytest.raises(TypeError):
        speedups.apply_mask(b"abc")


def _header(fin, opcode, masked, n):
    first = (0x80 if fin else 0) | opcode
    mbit = 0x80 if masked else 0
    if n <= 125:
        head = bytes((first, mbit | n))
    elif n <= 0xFFFF:
        head = bytes((first, mbit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((first, mbit | 127)) + struct.pack("!Q", n)
    return head + (b"kkkk" if masked else b"")


@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 2 ** 32 + 5, 2 ** 63 - 1])
@pytest.mark.parametrize("masked", [False, True])
def test_parse_header_lengths(n, masked):
    for fin, opcode in ((True, 0x2), (False, 0x1), (True, 0x9), (False, 0x0)):
        head = _header(fin, opcode, masked, n)
        assert speedups.parse_header(head + b"payload") == (fin, opcode, masked, n, len(head))
        for cut in range(len(head)):
            assert speedups.parse_header(head[:cut]) is None


def test_parse_header_accepts_buffers_and_leaves_rules_to_the_caller():
    head = bytearray(b"\xf2\x05")  # RSV bits set: reported, not judged
    assert speedups.parse_header(head) == (True, 2, False, 5, 2)
    assert speedups.parse_header(memoryview(b"\x88\x80abcd")) == (True, 8, True, 0, 6)


def _state(max_message_len, received=7):
    state = protocol.MessageState(max_message_len=max_message_len)
    state.received = received
    return state


def _state_tuple(state):
    return state.opcode, state.decoder, state.received, state.max_message_len


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(fst=st.sampled_from([0x81, 0x82, 0x01, 0x02, 0x80, 0x88, 0x89, 0xC2, 0x83]),
       masked=st.booleans(), n=st.sampled_from([0, 1, 5, 125, 126, 200, 4000, 65535, 70000]),
       form=st.sampled_from(["min", "16", "64"]), cut=st.integers(0, 12), extra=st.binary(max_size=10),
       text=st.sampled_from([b"", "héllo".encode(), b"\xed\xa0\x80", b"ok\xff"]),
       limit=st.sampled_from([0, 10, 125, 1 << 20, protocol.MAX_FRAME_LEN, 1 << 70, 3.5]),
       strict=st.booleans(), message_limit=st.sampled_from([5, 1 << 20, 2.0]),
       rules=st.sampled_from([None, (True, False), (False, False), (False, True)]))
def test_parse_whole_matches_python(fst, masked, n, form, cut, extra, text, limit, strict, message_limit, rules):
    payload = (text * (n // max(len(text), 1) + 1))[:n] if text else bytes(range(256)) * (n // 256 + 1)
    payload = payload[:n]
    if form == "min" and n > 125:
        form = "16" if n <= 0xFFFF else "64"
    if form == "16" and n > 0xFFFF:
        form = "64"
    if form == "min":
        head = bytes((fst, (0x80 if masked else 0) | n))
    elif form == "16":
        head = bytes((fst, (0x80 if masked else 0) | 126)) + struct.pack(">H", n)
    else:
        head = bytes((fst, (0x80 if masked else 0) | 127)) + struct.pack(">Q", n)
    key = b"\x0a\x0b\x0c\x0d"
    wire = head + (key + protocol.py_apply_mask(payload, key) if masked else payload) + extra
    have = max(0, len(wire) - cut) if cut < 12 else len(wire)
    for buf in (bytearray(wire), memoryview(bytearray(wire + b"\0" * 16))):
        py_state, c_state = _state(message_limit), _state(message_limit)
        more = () if rules is None else rules
        want = protocol.py_parse_whole(buf, have, limit, py_state, strict, *more)
        got = speedups.parse_whole(buf, have, limit, c_state, strict, *more)
        if rules is not None and want is not None:
            assert not (masked and rules[1]) and (masked or not rules[0])
        if type(limit) is not int or type(message_limit) is not int and strict:
            # the C version declines what it cannot compare as integers: the general path reads it
            assert got is None or got == want
            if got is None:
                continue
        assert got == want
        assert _state_tuple(c_state) == _state_tuple(py_state)


def test_parse_whole_error_string_is_protocols():
    wire = bytes((0x81, 0x83)) + b"\0\0\0\0" + b"\xff\xfe\xfd"
    assert speedups.parse_whole(wire, len(wire), 100, _state(100), False) == (None, None, protocol.ERR_BAD_TEXT, 9)


def test_protocol_uses_the_c_fast_path():
    assert protocol._parse_whole is speedups.parse_whole


# ---------------------------------------------------------------- frame I/O on real sockets
