"""websocket.protocol on crafted byte strings: every rule, every length encoding."""
import struct

import pytest
from hypothesis import given, settings, strategies as st

from websocket import protocol
from websocket.protocol import MessageState, apply_mask, build_frame, recv_frame, send_frame

from .fakesock import FakeSocket

KEY = b"\x37\xfa\x21\x3d"


def xor(data: bytes, key: bytes) -> bytes:
    """A plain reference masking, written independently of the module."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def wire(opcode, payload=b"", fin=True, key=None, rsv=0, length_form=None, raw_len=None):
    """Encode a frame by hand (struct), independent of build_frame."""
    n = len(payload) if raw_len is None else raw_len
    form = length_form or (7 if n <= 125 else 16 if n <= 0xFFFF else 64)
    out = bytes([(0x80 if fin else 0) | rsv | opcode])
    mbit = 0x80 if key is not None else 0
    if form == 7:
        out += bytes([mbit | n])
    elif form == 16:
        out += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        out += bytes([mbit | 127]) + struct.pack("!Q", n)
    if key is not None:
        out += key + xor(payload, key)
    else:
        out += payload
    return out


LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 300000]


# --- masking ---------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 1000, 16383, 16384, 16385, 70001])
def test_apply_mask_matches_reference(n):
    data = bytes((i * 7 + 3) & 0xFF for i in range(n))
    assert apply_mask(data, KEY) == xor(data, KEY)
    assert apply_mask(apply_mask(data, KEY), KEY) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.binary(min_size=4, max_size=4))
def test_apply_mask_property(data, key):
    assert apply_mask(data, key) == xor(data, key)


# --- recv_frame: lengths, masked and unmasked, whole and 1 byte at a time ---

@pytest.mark.parametrize("chunk", [0, 1, 7])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("n", LENGTHS)
def test_recv_binary_every_length(n, masked, chunk):
    if chunk == 1 and n > 70000:
        chunk = 997  # keep the 1-byte fake loop short for the big frame
    payload = bytes((i * 31) & 0xFF for i in range(n))
    sock = FakeSocket(wire(2, payload, key=KEY if masked else None), chunk=chunk)
    data, typ, err = recv_frame(sock, 1 << 20, masked)
    assert (data, typ, err) == (payload, "binary", None)
    assert type(data) is bytes


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("n", LENGTHS)
def test_recv_text_every_length(n, masked):
    text = ("é" * n)[: n // 2] + "a" * (n - 2 * (n // 2))
    payload = text.encode()
    assert len(payload) == n
    sock = FakeSocket(wire(1, payload, key=KEY if masked else None))
    assert recv_frame(sock, 1 << 20, False) == (text, "text", None)


@pytest.mark.parametrize("form,n", [(16, 5), (64, 5), (64, 70000)])
def test_recv_accepts_non_minimal_length_forms(form, n):
    payload = b"x" * n
    sock = FakeSocket(wire(2, payload, length_form=form))
    assert recv_frame(sock, 1 << 20, False) == (payload, "binary", None)


def test_recv_call_count_is_small():
    sock = FakeSocket(wire(2, b"y" * 70000, key=KEY))
    recv_frame(sock, 1 << 20, True)
    assert sock.receive_calls == [2, 12, 70000]
    sock = FakeSocket(wire(2, b"y" * 300, key=KEY))
    recv_frame(sock, 1 << 20, True)
    assert sock.receive_calls == [2, 6, 300]
    sock = FakeSocket(wire(1, b"hi"))
    recv_frame(sock, 100, False)
    assert sock.receive_calls == [2, 2]


def test_recv_empty_frame_reads_no_payload():
    sock = FakeSocket(wire(1, b""))
    assert recv_frame(sock, 10, False) == ("", "text", None)
    assert sock.receive_calls == [2]


# --- frame types ---------------------------------------------------------

def test_types_and_shapes():
    cases = [
        (wire(0, b"ab", fin=True), (b"ab", "continuation", None)),
        (wire(2, b"\x00\xff"), (b"\x00\xff", "binary", None)),
        (wire(9, b""), (b"", "ping", None)),
        (wire(9, b"hb"), (b"hb", "ping", None)),
        (wire(10, b"pp", key=KEY), (b"pp", "pong", None)),
    ]
    for raw, expected in cases:
        assert recv_frame(FakeSocket(raw), 100, False) == expected


@pytest.mark.parametrize("masked", [False, True])
def test_close_frames(masked):
    key = KEY if masked else None
    assert recv_frame(FakeSocket(wire(8, b"", key=key)), 100, False) == ("", "close", None)
    assert recv_frame(FakeSocket(wire(8, b"\x03\xe8", key=key)), 100, False) == ("", "close", 1000)
    body = struct.pack("!H", 1001) + "bye ü".encode()
    assert recv_frame(FakeSocket(wire(8, body, key=key)), 100, False) == ("bye ü", "close", 1001)
    assert recv_frame(FakeSocket(wire(8, b"\x03", key=key)), 100, False) == (
        None, None, "close frame with a body must carry a 2-byte status code")
    assert recv_frame(FakeSocket(wire(8, b"\x03\xe8\xff", key=key)), 100, False) == (
        None, None, protocol.ERR_BAD_REASON)


def test_non_final_frames_say_again():
    assert recv_frame(FakeSocket(wire(1, b"abc", fin=False)), 100, False) == ("abc", "text", "again")
    assert recv_frame(FakeSocket(wire(0, b"abc", fin=False)), 100, False) == (b"abc", "continuation", "again")
    assert recv_frame(FakeSocket(wire(2, b"abc", fin=False)), 100, False) == (b"abc", "binary", "again")


# --- rule violations -----------------------------------------------------

@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10, 0x70])
def test_rsv_bits(rsv):
    assert recv_frame(FakeSocket(wire(1, b"a", rsv=rsv)), 100, False) == (None, None, "bad RSV1, RSV2, or RSV3 bits")


@pytest.mark.parametrize("opcode", range(3, 8))
def test_reserved_non_control(opcode):
    assert recv_frame(FakeSocket(wire(opcode, b"a")), 100, False) == (None, None, "reserved non-control frames")


@pytest.mark.parametrize("opcode", range(0xB, 0x10))
def test_reserved_control(opcode):
    assert recv_frame(FakeSocket(wire(opcode, b"a")), 100, False) == (None, None, "reserved control frames")


def test_unmasked_refused_when_forced():
    sock = FakeSocket(wire(1, b"hello"))
    assert recv_frame(sock, 100, True) == (None, None, "frame unmasked")
    assert sock.receive_calls == [2]
    assert recv_frame(FakeSocket(wire(1, b"hello", key=KEY)), 100, True) == ("hello", "text", None)


@pytest.mark.parametrize("opcode", [8, 9, 10])
def test_control_frame_rules(opcode):
    assert recv_frame(FakeSocket(wire(opcode, b"x" * 126)), 1000, False) == (
        None, None, "too long payload for control frame")
    assert recv_frame(FakeSocket(wire(opcode, b"x" * 125)), 1000, False)[1] == protocol.TYPES[opcode]
    assert recv_frame(FakeSocket(wire(opcode, b"\x03\xe8", fin=False)), 1000, False) == (
        None, None, "fragmented control frame")


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("n", [126, 65535, 65536, 1 << 40, (1 << 63) - 1])
def test_max_payload_len_checked_before_payload(n, masked):
    # Only the header is on the wire: the check must fire without reading any payload.
    head = wire(2, key=None, raw_len=n)
    if masked:
        head = bytes([head[0], head[1] | 0x80]) + head[2:] + KEY
    sock = FakeSocket(head)
    assert recv_frame(sock, n - 1, False) == (None, None, "exceeding max payload len")
    assert sum(sock.receive_calls) == len(head)


def test_payload_len_top_bit():
    head = bytes([0x82, 127]) + b"\x80" + b"\x00" * 7
    assert recv_frame(FakeSocket(head), 1 << 62, False) == (None, None, "payload len too large")


def test_default_max_boundary_65535():
    ok = wire(2, b"a" * 65535, key=KEY)
    assert recv_frame(FakeSocket(ok), 65535, True)[0] == b"a" * 65535
    over = wire(1, b"a" * 65535 + b"b", key=KEY)
    assert recv_frame(FakeSocket(over), 65535, True) == (None, None, "exceeding max payload len")


# --- short reads: error prefixes ------------------------------------------

def test_short_read_messages():
    assert recv_frame(FakeSocket(b""), 100, False) == (None, None, "failed to receive the first 2 bytes: closed")
    assert recv_frame(FakeSocket(b"\x81", eof_err="timeout"), 100, False) == (
        None, None, "failed to receive the first 2 bytes: timeout")
    assert recv_frame(FakeSocket(bytes([0x82, 126, 1])), 1000, False) == (
        None, None, "failed to receive the 2 byte payload length: closed")
    assert recv_frame(FakeSocket(bytes([0x82, 127, 0, 0])), 1000, False) == (
        None, None, "failed to receive the 8 byte payload length: closed")
    assert recv_frame(FakeSocket(bytes([0x82, 0x85, 1, 2])), 1000, False) == (
        None, None, "failed to read masking-len and payload: closed")
    assert recv_frame(FakeSocket(bytes([0x82, 5, 1, 2]), eof_err="timeout"), 1000, False) == (
        None, None, "failed to read masking-len and payload: timeout")
    assert recv_frame(FakeSocket(b"\x81", eof_err=None), 100, False) == (
        None, None, "failed to receive the first 2 bytes: unknown")


# --- text decoding across fragments ----------------------------------------

def test_text_split_character_across_fragments_with_state():
    word = "日本".encode()  # 6 bytes, split inside the first character
    raw = wire(1, word[:2], fin=False, key=KEY) + wire(0, word[2:4], fin=False, key=KEY) + wire(0, word[4:], key=KEY)
    sock = FakeSocket(raw, chunk=1)
    st_ = MessageState()
    assert recv_frame(sock, 100, True, state=st_) == ("", "text", "again")
    assert recv_frame(sock, 100, True, state=st_) == ("日", "continuation", "again")
    assert recv_frame(sock, 100, True, state=st_) == ("本", "continuation", None)
    assert st_.in_text is False


def test_control_frame_between_fragments_keeps_text_state():
    word = "€".encode()
    raw = wire(1, word[:1], fin=False) + wire(9, b"p") + wire(0, word[1:])
    sock = FakeSocket(raw)
    s = MessageState()
    assert recv_frame(sock, 100, False, state=s) == ("", "text", "again")
    assert recv_frame(sock, 100, False, state=s) == (b"p", "ping", None)
    assert recv_frame(sock, 100, False, state=s) == ("€", "continuation", None)


def test_binary_continuations_stay_bytes_with_state():
    raw = wire(2, b"\xff", fin=False) + wire(0, b"\xfe")
    sock = FakeSocket(raw)
    s = MessageState()
    assert recv_frame(sock, 100, False, state=s) == (b"\xff", "binary", "again")
    assert recv_frame(sock, 100, False, state=s) == (b"\xfe", "continuation", None)


def test_text_ending_mid_character_is_an_error():
    raw = wire(1, "é".encode()[:1], fin=False) + wire(0, b"")
    sock = FakeSocket(raw)
    s = MessageState()
    assert recv_frame(sock, 100, False, state=s) == ("", "text", "again")
    assert recv_frame(sock, 100, False, state=s) == (None, None, protocol.ERR_BAD_TEXT)


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"a\xe2\x82"])
def test_invalid_utf8_text_is_an_error_string(bad):
    assert recv_frame(FakeSocket(wire(1, bad)), 100, False) == (None, None, protocol.ERR_BAD_TEXT)
    assert recv_frame(FakeSocket(wire(1, bad)), 100, False, state=MessageState()) == (
        None, None, protocol.ERR_BAD_TEXT)


def test_stateless_call_decodes_one_frame():
    # Without state a continuation is raw bytes and each text frame stands alone.
    assert recv_frame(FakeSocket(wire(0, "ü".encode())), 100, False) == ("ü".encode(), "continuation", None)


# --- build_frame ------------------------------------------------------------

@pytest.mark.parametrize("n", LENGTHS)
def test_build_frame_unmasked_matches_hand_encoding(n):
    payload = b"z" * n
    assert build_frame(True, 2, n, payload, False) == wire(2, payload)
    assert build_frame(False, 1, n, payload, False) == wire(1, payload, fin=False)


@pytest.mark.parametrize("n", LENGTHS)
def test_build_frame_masked_round_trips(n):
    payload = bytes((i * 13) & 0xFF for i in range(n))
    raw = build_frame(True, 2, n, payload, True)
    assert raw[1] & 0x80
    assert recv_frame(FakeSocket(raw), 1 << 20, True) == (payload, "binary", None)


def test_build_frame_masks_with_fresh_keys():
    a = build_frame(True, 1, 8, b"12345678", True)
    b = build_frame(True, 1, 8, b"12345678", True)
    c = build_frame(True, 1, 8, b"12345678", True)
    assert len({a[2:6], b[2:6], c[2:6]}) > 1


def test_build_frame_refuses_impossible_length():
    with pytest.raises(ValueError):
        build_frame(True, 2, 1 << 63, b"", False)


# --- send_frame -----------------------------------------------------------

def test_send_frame_one_send_and_byte_count():
    sock = FakeSocket()
    assert send_frame(sock, True, 1, "héllo", 100, False) == (8, None)
    assert sock.sent == [wire(1, "héllo".encode())]
    sock = FakeSocket()
    bytes_sent, err = send_frame(sock, True, 2, b"x" * 70000, 1 << 20, True)
    assert (bytes_sent, err) == (70000 + 14, None)
    assert len(sock.sent) == 1
    assert recv_frame(FakeSocket(sock.sent[0]), 1 << 20, True) == (b"x" * 70000, "binary", None)


def test_send_frame_payload_kinds():
    for payload, expected in [(None, b""), (b"ab", b"ab"), (bytearray(b"ab"), b"ab"), (memoryview(b"ab"), b"ab"),
                              ("ab", b"ab"), (12, b"12"), (1.5, b"1.5"), (True, b"true")]:
        sock = FakeSocket()
        send_frame(sock, True, 2, payload, 100, False)
        assert sock.sent == [wire(2, expected)]


def test_send_frame_rules():
    assert send_frame(FakeSocket(), True, 1, "abc", 2, False) == (None, "payload too big")
    assert send_frame(FakeSocket(), True, 9, b"x" * 126, 1000, False) == (None, "too much payload for control frame")
    assert send_frame(FakeSocket(), False, 8, b"", 1000, False) == (None, "fragmented control frame")
    assert send_frame(FakeSocket(send_err="timeout"), True, 1, "a", 10, False) == (
        None, "failed to send frame: timeout")
    with pytest.raises(TypeError):
        send_frame(FakeSocket(), True, "text", "a", 10, False)
    with pytest.raises(TypeError):
        send_frame(FakeSocket(), True, 16, "a", 10, False)


def test_constants():
    assert (protocol.OP_CONTINUATION, protocol.OP_TEXT, protocol.OP_BINARY) == (0, 1, 2)
    assert (protocol.OP_CLOSE, protocol.OP_PING, protocol.OP_PONG) == (8, 9, 10)
    assert protocol.CLOSE_NORMAL == 1000 and protocol.CLOSE_MESSAGE_TOO_BIG == 1009


def test_big_frame_is_fast_enough():
    # A 1 MiB masked frame: both directions well under a CPU-heavy budget.
    import time
    payload = bytes(range(256)) * 4096
    t0 = time.perf_counter()
    sock = FakeSocket()
    send_frame(sock, True, 2, payload, 1 << 21, True)
    data, typ, err = recv_frame(FakeSocket(sock.sent[0]), 1 << 21, True)
    assert data == payload
    assert time.perf_counter() - t0 < 0.5


@settings(max_examples=80, deadline=None)
@given(payload=st.binary(max_size=70000), opcode=st.sampled_from([0, 2]), fin=st.booleans(),
       masking=st.booleans(), chunk=st.integers(min_value=0, max_value=5000))
def test_send_then_recv_round_trip(payload, opcode, fin, masking, chunk):
    out = FakeSocket()
    assert send_frame(out, fin, opcode, payload, 1 << 20, masking)[1] is None
    data, typ, err = recv_frame(FakeSocket(out.sent_bytes(), chunk=chunk), 1 << 20, masking)
    assert (data, typ, err) == (payload, protocol.TYPES[opcode], None if fin else "again")


def test_bare_recv_frame_decodes_text_split_across_fragments_whole():
    """Without `state=`, recv_frame keeps one message state per socket (PYTHON-API.md section 3)."""
    text = "h\u00e9llo"
    raw = text.encode()  # b"h\xc3\xa9llo": the split falls inside "\u00e9"
    sock = FakeSocket(build_frame(False, protocol.OP_TEXT, 2, raw[:2], True)
                      + build_frame(True, protocol.OP_CONTINUATION, len(raw) - 2, raw[2:], True), chunk=3)
    assert recv_frame(sock, 1000, True) == ("h", "text", "again")
    assert recv_frame(sock, 1000, True) == ("\u00e9llo", "continuation", None)


def test_bare_recv_frame_states_are_per_socket():
    one = FakeSocket(build_frame(False, protocol.OP_TEXT, 1, b"\xc3", False))
    two = FakeSocket(build_frame(True, protocol.OP_CONTINUATION, 2, b"ab", False))
    assert recv_frame(one, 100) == ("", "text", "again")
    assert recv_frame(two, 100) == (b"ab", "continuation", None)  # no text message on this socket
