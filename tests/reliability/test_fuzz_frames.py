"""Property-based fuzzing of the frame parser: whatever the bytes, recv_frame and recv_message return
(data, typ, err) tuples, an error string for every refusal, and never raise or hang.

(The conf parser's property test lives in tests/cosocket/test_conf_lexer.py and is not repeated here.)
"""
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.websocket.fakesock import FakeSocket
from websocket.message import Endpoint
from websocket.protocol import MAX_FRAME_LEN, TYPES, MessageState, recv_frame

FUZZ = settings(max_examples=200, deadline=1000, suppress_health_check=[HealthCheck.too_slow])


class EndpointSocket(FakeSocket):
    """A FakeSocket with the cosocket calls the message layer also uses."""

    def __init__(self, data: bytes, chunk: int = 0):
        super().__init__(data, chunk=chunk)
        self.finalized = False

    def read_timeout(self):
        return 0.01

    def receiveany(self, n):
        data, err, partial = self.receive(1)
        return (data, None) if data is not None else (None, err)

    def buffered(self):
        return sum(len(c) for c in self.chunks)

    def abort(self):
        self.finalized = True

    def close(self):
        return 1, None

    def settimeout(self, ms):
        pass


def _head(fin, rsv, opcode, masked, length):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", b0, mbit | length)
    if length < 65536:
        return struct.pack("!BBH", b0, mbit | 126, length)
    return struct.pack("!BBQ", b0, mbit | 127, length)


#: A frame that is nearly right: any opcode, rsv bits, mask bit and a length that may lie about the payload.
frames = st.builds(
    lambda fin, rsv, opcode, masked, length, key, payload: _head(fin, rsv, opcode, masked, length)
    + (key if masked else b"") + payload,
    st.booleans(), st.integers(0, 7) | st.just(0), st.integers(0, 15), st.booleans(),
    st.integers(0, 200) | st.integers(0, 1 << 64 - 1) | st.sampled_from([125, 126, 127, 65535, 65536, MAX_FRAME_LEN]),
    st.binary(min_size=4, max_size=4), st.binary(max_size=300))
streams = st.lists(frames | st.binary(max_size=40), max_size=8).map(b"".join)


def _check_result(result):
    assert isinstance(result, tuple) and len(result) == 3
    data, typ, err = result
    if data is None:
        assert typ is None and isinstance(err, str) and err
    else:
        assert typ in TYPES.values()
        if typ == "close":
            assert err is None or isinstance(err, int)
        else:
            assert err in (None, "again")
    return data, typ, err


@FUZZ
@given(stream=streams, chunk=st.integers(0, 7), strict=st.booleans(), force=st.booleans(),
       limit=st.sampled_from([0, 125, 65535, MAX_FRAME_LEN]))
def test_recv_frame_never_raises_and_every_refusal_is_an_error_string(stream, chunk, strict, force, limit):
    sock = FakeSocket(stream, chunk=chunk)
    state = MessageState(max_message_len=1000)
    for _ in range(64):  # at most a frame per 2 bytes: the loop always ends
        data, typ, err = _check_result(recv_frame(sock, limit, force, state=state, strict=strict))
        if data is None:
            break
    # never waits for a payload over the limit: a huge declared length is refused from its header
    assert max(sock.receive_calls, default=0) <= max(12, limit)


@FUZZ
@given(stream=st.binary(max_size=600), chunk=st.integers(0, 3))
def test_recv_frame_on_random_bytes(stream, chunk):
    sock = FakeSocket(stream, chunk=chunk)
    for _ in range(400):
        data, typ, err = _check_result(recv_frame(sock, 65535, True))
        if data is None:
            return


@FUZZ
@given(stream=streams, chunk=st.integers(0, 5), strict=st.booleans())
def test_the_server_message_layer_never_raises(stream, chunk, strict):
    sock = EndpointSocket(stream, chunk=chunk)
    wb = Endpoint(sock, 4096, 4096, False, True, is_server=True, strict=strict, max_message_len=8192)
    for _ in range(64):
        data, typ, err = wb.recv_message()
        if data is None:
            assert isinstance(err, str) and err
            break
        assert typ in ("text", "binary", "close")
        if typ == "text":
            assert isinstance(data, str)
        if typ == "close":
            break
    # whatever happened, the object answers later calls with an error, not an exception
    data, typ, err = wb.recv_frame()
    assert data is None or typ is not None
    for sent in sock.sent:  # every frame the server wrote is well formed and unmasked
        assert sent[1] & 0x80 == 0 and (sent[0] & 0x0F) in TYPES
