"""The frame methods shared by server and client objects, on an in-memory socket."""
import pytest

from websocket.protocol import Channel, close_payload, take_options

from .fakesock import FakeSocket
from .test_protocol import KEY, wire


class TimeoutThenData(FakeSocket):
    """Times out on the first receive, then serves its data."""

    def __init__(self, data):
        super().__init__(data)
        self.timed_out = False

    def receive(self, n):
        if not self.timed_out:
            self.timed_out = True
            return None, "timeout", b""
        return super().receive(n)


def server_side(sock, max_len=65535, masking=False):
    return Channel(sock, max_len, max_len, masking, True)


def test_send_methods_opcodes_and_masking():
    sock = FakeSocket()
    ch = server_side(sock)
    assert ch.send_text("hi") == (4, None)
    assert ch.send_binary(b"\x00") == (3, None)
    assert ch.send_ping() == (2, None)
    assert ch.send_pong(b"p") == (3, None)
    assert ch.send_continue("c") == (3, None)
    assert ch.send_frame(False, 1, "frag") == (6, None)
    assert ch.send_close(1000, "bye") == (7, None)
    assert ch.send_close() == (2, None)
    assert sock.sent == [wire(1, b"hi"), wire(2, b"\x00"), wire(9), wire(10, b"p"), wire(0, b"c"),
                         wire(1, b"frag", fin=False), wire(8, b"\x03\xe8bye"), wire(8)]


def test_masked_sending_when_asked():
    sock = FakeSocket()
    ch = server_side(sock, masking=True)
    ch.send_text("secret")
    assert sock.sent[0][1] & 0x80
    reader = server_side(FakeSocket(sock.sent[0]))  # forces masking: an unmasked frame would fail
    assert reader.recv_frame() == ("secret", "text", None)


def test_read_timeout_is_not_fatal():
    sock = TimeoutThenData(wire(1, b"late", key=KEY))
    ch = server_side(sock)
    assert ch.recv_frame() == (None, None, "failed to receive the first 2 bytes: timeout")
    assert ch.recv_frame() == ("late", "text", None)


@pytest.mark.parametrize("raw,err", [
    (wire(1, b"no mask"), "frame unmasked"),
    (wire(3, b"", key=KEY), "reserved non-control frames"),
    (b"\x81", "failed to receive the first 2 bytes: closed"),
])
def test_protocol_errors_are_fatal(raw, err):
    ch = server_side(FakeSocket(raw if len(raw) < 2 else raw + wire(1, b"more", key=KEY)))
    assert ch.recv_frame() == (None, None, err)
    assert ch.recv_frame() == (None, None, "fatal error already happened")
    assert ch.send_text("x") == (None, "fatal error already happened")
    assert ch.send_close() == (None, "fatal error already happened")


def test_send_failure_is_fatal():
    ch = server_side(FakeSocket(send_err="broken pipe"))
    assert ch.send_text("x") == (None, "failed to send frame: broken pipe")
    assert ch.send_ping() == (None, "fatal error already happened")


def test_send_limit_error_is_fatal_like_upstream():
    ch = Channel(FakeSocket(), 100, 3, False, True)
    assert ch.send_text("abcd") == (None, "payload too big")
    assert ch.send_text("ab") == (None, "fatal error already happened")


def test_recv_limit_uses_max_recv_len():
    ch = Channel(FakeSocket(wire(1, b"x" * 200, key=KEY)), 199, 1000, False, True)
    assert ch.recv_frame() == (None, None, "exceeding max payload len")


def test_text_state_kept_across_fragments():
    word = "€uro".encode()
    raw = wire(1, word[:1], fin=False, key=KEY) + wire(0, word[1:], key=KEY)
    ch = server_side(FakeSocket(raw, chunk=1))
    assert ch.recv_frame() == ("", "text", "again")
    assert ch.recv_frame() == ("€uro", "continuation", None)


@pytest.mark.parametrize("code", [0x8000, 0xF000, -1, 1000.5, "1000", True, float("nan")])
def test_bad_status_codes(code):
    sock = FakeSocket()
    assert server_side(sock).send_close(code, "x") == (None, "bad status code")
    assert sock.sent == []


def test_close_payload():
    assert close_payload(None, "ignored") == b""
    assert close_payload(1000, None) == b"\x03\xe8"
    assert close_payload(1001.0, "é") == b"\x03\xe9" + "é".encode()
    assert close_payload(0x7FFF, b"r") == b"\x7f\xffr"


def test_set_timeout_passes_to_socket():
    class S(FakeSocket):
        def settimeout(self, ms):
            self.ms = ms
    s = S()
    server_side(s).set_timeout(250)
    assert s.ms == 250


def test_take_options():
    assert take_options({"a": 1}, {"b": 2}, ("a", "b"), "new") == {"a": 1, "b": 2}
    with pytest.raises(TypeError, match="max_payload"):
        take_options({"max_payload": 1}, {}, ("max_payload_len",), "new")
    with pytest.raises(TypeError):
        take_options("x", {}, (), "new")
