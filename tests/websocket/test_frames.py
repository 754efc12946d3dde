"""websocket.frames, the sans-I/O frame core: every test runs on the pure-Python functions and on their C twins."""
import os
import struct

import pytest
from hypothesis import given, settings, strategies as st

from websocket import frames
from websocket.frames import MASK_REFUSED, MASK_REQUIRED, RSV1_ALLOWED, CloseCode, Opcode


def _c_module():
    if os.environ.get("CI"):
        import websocket._speedups as speedups  # CI has a compiler: a missing extension is a failure there
        return speedups
    return pytest.importorskip("websocket._speedups",
                               reason="C extension not built: no C compiler (pure-Python fallback in use)")


@pytest.fixture(params=["python", "c"])
def impl(request):
    """The implementation under test, imported by its own name: (apply_mask, parse)."""
    if request.param == "python":
        from websocket.frames import py_apply_mask, py_parse
        return py_apply_mask, py_parse
    speedups = _c_module()
    return speedups.apply_mask, speedups.parse


def naive_mask(data, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def header(fst, masked, n, form="min", key=b"kkkk"):
    mbit = 0x80 if masked else 0
    if form == "min" and n <= 125:
        head = bytes((fst, mbit | n))
    elif form in ("min", "16") and n <= 0xFFFF:
        head = bytes((fst, mbit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((fst, mbit | 127)) + struct.pack("!Q", n)
    return head + (key if masked else b"")


KEYS = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x12\x34\x56\x78", os.urandom(4)]
LENGTHS = list(range(0, 70)) + [125, 126, 127, 4095, 4096, 4097, 16383, 16384, 16385, 65536 + 3]


# ------------------------------------------------------------------ masking
@pytest.mark.parametrize("key", KEYS)
def test_apply_mask_every_length(impl, key):
    apply_mask, _ = impl
    data = os.urandom(max(LENGTHS))
    for n in LENGTHS:
        assert apply_mask(data[:n], key) == naive_mask(data[:n], key), n


def test_apply_mask_any_alignment_and_buffer_type(impl):
    apply_mask, _ = impl
    key = b"\xa1\xb2\xc3\xd4"
    view = memoryview(bytearray(os.urandom(300)))
    for offset in range(9):
        for n in (0, 1, 7, 8, 9, 31, 32, 33, 100, 291 - offset):
            piece = view[offset:offset + n]
            want = naive_mask(bytes(piece), key)
            assert apply_mask(piece, key) == want
            assert apply_mask(bytearray(piece), memoryview(key)) == want
            assert apply_mask(bytes(piece), bytearray(key)) == want


def test_apply_mask_returns_new_bytes_and_round_trips(impl):
    apply_mask, _ = impl
    data = os.urandom(1000)
    key = os.urandom(4)
    masked = apply_mask(data, key)
    assert type(masked) is bytes and masked != data
    assert apply_mask(masked, key) == data
    assert type(apply_mask(bytearray(20000), key)) is bytes


def test_apply_mask_rejects_bad_arguments(impl):
    apply_mask, _ = impl
    with pytest.raises(ValueError):
        apply_mask(b"abc", b"abc")
    with pytest.raises(TypeError):
        apply_mask("text", b"abcd")
    with pytest.raises(TypeError):
        apply_mask(b"abc")


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 2 ** 32 + 5])
@pytest.mark.parametrize("masked", [False, True])
def test_parse_lengths_and_need_more(impl, n, masked):
    apply_mask, parse = impl
    payload = bytes(range(256)) * (min(n, 70000) // 256 + 1)
    for fst in (0x82, 0x01, 0x00):
        head = header(fst, masked, n, key=b"\x01\x02\x03\x04")
        for cut in range(len(head)):
            assert parse(head[:cut] + bytes(20), cut, frames.MAX_FRAME_LEN, 0) is None, cut
        key = b"\x01\x02\x03\x04" if masked else None
        mask_bit = True if masked else None  # (what `key` says once the payload is there)
        assert parse(head, len(head), frames.MAX_FRAME_LEN, 0) == (
            (fst, b"", len(head), 0, mask_bit) if n == 0 else (fst, None, len(head), n, key))
        if n <= 70000:
            body = payload[:n]
            wire = head + (naive_mask(body, key) if masked else body) + b"next"
            got = parse(bytearray(wire), len(wire), frames.MAX_FRAME_LEN, 0)
            assert got == (fst, body, len(head) + n, n, mask_bit)
            assert type(got[1]) is bytes


def test_parse_hands_out_the_first_byte(impl):
    _, parse = impl
    assert parse(b"\xc1\x01x", 3, 10, RSV1_ALLOWED) == (0xC1, b"x", 3, 1, None)
    assert parse(b"\x41\x01x", 3, 10, RSV1_ALLOWED)[0] & 0x40


VIOLATION_CASES = [
    (b"\xc1\x00", 0, "bad RSV1, RSV2, or RSV3 bits"),
    (b"\xa1\x00", RSV1_ALLOWED, "bad RSV1, RSV2, or RSV3 bits"),
    (b"\x93\x00", 0, "bad RSV1, RSV2, or RSV3 bits"),
    (b"\x83\x00", 0, "reserved non-control frames"),
    (b"\x87\x00", 0, "reserved non-control frames"),
    (b"\x8b\x00", 0, "reserved control frames"),
    (b"\x8f\x00", 0, "reserved control frames"),
    (b"\x81\x00", MASK_REQUIRED, "frame unmasked"),
    (b"\x81\x80", MASK_REFUSED, "frame masked"),
    (b"\x82\x7f\x80" + bytes(7), 0, "payload len too large"),
    (b"\x89\x7e\x00\x7e", 0, "too long payload for control frame"),
    (b"\x09\x00", 0, "fragmented control frame"),
    (b"\x82\x0b", 0, "exceeding max payload len"),
]


@pytest.mark.parametrize("wire,rules,message", VIOLATION_CASES)
def test_parse_violations_carry_their_close_code(impl, wire, rules, message):
    _, parse = impl
    n = parse(wire, len(wire), 10, rules)
    assert type(n) is int
    exc = frames.violation(n)
    assert str(exc) == message
    assert isinstance(exc, frames.FrameError)
    want = CloseCode.MESSAGE_TOO_BIG if message == "exceeding max payload len" else CloseCode.PROTOCOL_ERROR
    assert exc.close_code == want == int(want)


def test_parse_decides_from_the_first_two_bytes_when_they_suffice(impl):
    _, parse = impl
    assert frames.violation(parse(b"\xc2\xfe", 2, 10, 0)).args == ("bad RSV1, RSV2, or RSV3 bits",)


def test_parse_announced_length_allocates_nothing(impl):
    _, parse = impl
    head = header(0x82, True, 1 << 39, form="64", key=b"abcd")
    assert parse(head, len(head), 1 << 40, 0) == (0x82, None, 14, 1 << 39, b"abcd")


def test_parse_limit_edges(impl):
    _, parse = impl
    wire = b"\x82\x05hello"
    assert parse(wire, 7, 5, 0)[1] == b"hello"
    assert str(frames.violation(parse(wire, 7, 4, 0))) == "exceeding max payload len"
    assert str(frames.violation(parse(wire, 7, -1, 0))) == "exceeding max payload len"


def test_limit_of_follows_upstreams_comparison():
    assert frames.limit_of(10) == 10
    assert frames.limit_of(3.5) == 3
    assert frames.limit_of(float("inf")) == frames.MAX_FRAME_LEN
    assert frames.limit_of(float("nan")) == frames.MAX_FRAME_LEN
    assert frames.limit_of(1 << 70) == frames.MAX_FRAME_LEN
    with pytest.raises(TypeError):
        frames.limit_of("10")


def test_enums_equal_upstreams_integers():
    assert Opcode.TEXT == 1 and Opcode.PONG == 0xA and CloseCode.NORMAL == 1000 and CloseCode.TLS_HANDSHAKE == 1015
    assert {0x1: "t"}[Opcode.TEXT] == "t"


@settings(max_examples=500, deadline=None)
@given(wire=st.binary(max_size=40), cut=st.integers(0, 40), limit=st.sampled_from([0, 5, 125, 1 << 20, -1]),
       rules=st.sampled_from([0, 1, 2, 4, 5, 6]))
def test_c_parse_equals_python_parse_on_any_bytes(wire, cut, limit, rules):
    speedups = _c_module()
    have = min(cut, len(wire))
    for buf in (wire, bytearray(wire), memoryview(wire)):
        assert speedups.parse(buf, have, limit, rules) == frames.py_parse(buf, have, limit, rules)


@settings(max_examples=300, deadline=None)
@given(fst=st.sampled_from([0x81, 0x82, 0x01, 0x00, 0x88, 0x89, 0x8A, 0xC1]), masked=st.booleans(),
       n=st.sampled_from([0, 1, 5, 125, 126, 200, 4000, 65535, 70000]), form=st.sampled_from(["min", "16", "64"]),
       extra=st.binary(max_size=10), rules=st.sampled_from([0, 1, 2, 4]))
def test_c_parse_equals_python_parse_on_frames(fst, masked, n, form, extra, rules):
    speedups = _c_module()
    payload = os.urandom(n)
    key = os.urandom(4)
    wire = header(fst, masked, n, form, key) + (naive_mask(payload, key) if masked else payload) + extra
    for have in (len(wire), len(wire) - len(extra) - 1, 2, 5):
        have = max(0, min(have, len(wire)))
        assert speedups.parse(wire, have, 1 << 20, rules) == frames.py_parse(wire, have, 1 << 20, rules)


def test_the_module_uses_the_c_functions_when_built():
    speedups = _c_module()
    assert frames.parse is speedups.parse and frames.apply_mask is speedups.apply_mask
    assert frames.py_parse is not speedups.parse


def test_c_module_holds_only_functions_with_python_twins():
    speedups = _c_module()
    from websocket import direct
    names = sorted(n for n in dir(speedups) if not n.startswith("_"))
    assert names == ["apply_mask", "parse", "recv_parse", "send_frame"]
    for name in names:  # each has its pure-Python twin, the reference the tests run too
        assert callable(getattr(frames, "py_" + name, None) or getattr(direct, "py_" + name))


def test_build_frame_round_trips_through_parse(impl):
    _, parse = impl
    for n in (0, 5, 125, 126, 70000):
        payload = os.urandom(n)
        for masking in (False, True):
            wire = frames.build_frame(True, Opcode.BINARY, n, payload, masking)
            got = parse(wire, len(wire), 1 << 20, 0)
            assert got[0] == 0x82 and got[1] == payload and got[2] == len(wire)
            assert (got[4] is not None) == masking
