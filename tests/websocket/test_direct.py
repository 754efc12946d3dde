"""websocket.direct: one recv()+parse or one send of a frame on a file descriptor, run on the Python twins and C."""
import errno
import os
import socket

import pytest

from websocket import direct, frames
from websocket.frames import MASK_REQUIRED, Opcode


@pytest.fixture(params=["python", "c"])
def impl(request):
    """(recv_parse, send_frame), each imported by its own name."""
    if request.param == "python":
        from websocket.direct import py_recv_parse, py_send_frame
        return py_recv_parse, py_send_frame
    if os.environ.get("CI"):
        import websocket._speedups as speedups
    else:
        speedups = pytest.importorskip("websocket._speedups",
                                       reason="C extension not built: no C compiler (pure-Python fallback in use)")
    return speedups.recv_parse, speedups.send_frame


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def test_the_module_uses_the_c_functions_when_built():
    speedups = pytest.importorskip("websocket._speedups")
    assert direct.recv_parse is speedups.recv_parse and direct.send_frame is speedups.send_frame


def test_nothing_arrived_is_minus_eagain(impl, pair):
    recv_parse, _ = impl
    assert recv_parse(pair[0].fileno(), bytearray(64), 1000, 0) == (-errno.EAGAIN, None)


def test_end_of_stream_is_zero(impl, pair):
    recv_parse, _ = impl
    pair[1].close()
    assert recv_parse(pair[0].fileno(), bytearray(64), 1000, 0) == (0, None)


def test_a_failed_read_is_minus_its_errno(impl):
    recv_parse, _ = impl
    r, w = os.pipe()
    os.close(r)
    try:
        assert recv_parse(w, bytearray(8), 1000, 0) in ((-errno.EBADF, None), (-errno.ENOTSOCK, None), (-errno.EINVAL, None))
    finally:
        os.close(w)


@pytest.mark.parametrize("n", [0, 5, 125, 126, 4095, 4096, 65535, 65536, 70000])
def test_a_sent_frame_comes_back_whole(impl, pair, n):
    recv_parse, send_frame = impl
    payload = os.urandom(n)
    a, b = pair
    a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sent = send_frame(b.fileno(), 0x80 | Opcode.BINARY, payload)
    wire = frames.build_frame(True, Opcode.BINARY, n, payload, False)
    got = b""
    while len(got) < sent:
        got += a.recv(1 << 20)
    assert got == wire[:sent] and sent > 0
    if sent == len(wire):
        buf = bytearray(len(wire) + 7)
        b.sendall(wire)
        count, frame = recv_parse(a.fileno(), buf, 1 << 20, 0)
        assert count == len(wire)
        assert frame == frames.parse(wire, len(wire), 1 << 20, 0) and frame[1] == payload


def test_recv_parse_answers_what_parse_answers(impl, pair):
    recv_parse, _ = impl
    a, b = pair
    masked = frames.build_frame(True, Opcode.TEXT, 5, b"hello", True)
    for wire, rules in ((masked + b"\x81", 0), (masked[:3], 0), (b"\x83\x00", 0), (b"\x81\x00", MASK_REQUIRED)):
        b.sendall(wire)
        buf = bytearray(100)
        count, frame = recv_parse(a.fileno(), buf, 1000, rules)
        assert count == len(wire)
        assert frame == frames.py_parse(wire, len(wire), 1000, rules)


def test_send_into_a_full_socket_takes_none_or_part(impl, pair):
    _, send_frame = impl
    a, b = pair
    total = 0
    for _ in range(1000):
        sent = send_frame(b.fileno(), 0x82, b"x" * 65536)
        if sent < 65546:
            break
        total += sent
    assert 0 <= sent < 65546 and total > 0


def test_a_failed_send_is_minus_its_errno(impl, pair):
    _, send_frame = impl
    a, b = pair
    a.close()
    assert send_frame(b.fileno(), 0x82, b"x") == -errno.EPIPE


def test_first_byte_out_of_range_is_refused(impl, pair):
    _, send_frame = impl
    with pytest.raises(ValueError):
        send_frame(pair[1].fileno(), 256, b"")


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_any_buffer_works_as_payload_and_as_scratch(impl, pair, kind):
    recv_parse, send_frame = impl
    a, b = pair
    payload = os.urandom(300)
    assert send_frame(b.fileno(), 0x82, kind(payload)) == 304
    scratch = bytearray(1000)
    view = memoryview(scratch) if kind is memoryview else scratch
    count, frame = recv_parse(a.fileno(), view, 1000, 0)
    assert count == 304 and frame == (0x82, payload, 304, 300, None)
