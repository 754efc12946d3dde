"""websocket.protocol over a real socketpair and the cosocket reader, data trickling in small pieces."""
import gevent
import pytest
from gevent import socket

from cosocket.tcp import TCPSocket
from websocket.protocol import MessageState, recv_frame, send_frame

from .test_protocol import KEY, wire


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    reader = TCPSocket.from_accepted(a, "unix")
    reader.settimeout(2000)
    yield reader, b
    a.close()
    b.close()


def trickle(sock, data, step):
    def run():
        for i in range(0, len(data), step):
            sock.sendall(data[i:i + step])
            gevent.sleep(0)
    return gevent.spawn(run)


@pytest.mark.parametrize("n,step", [(0, 1), (5, 1), (125, 1), (126, 1), (127, 3), (65535, 997), (65536, 1000),
                                    (300000, 4096)])
@pytest.mark.parametrize("masked", [False, True])
def test_frames_arrive_in_pieces(pair, n, step, masked):
    reader, writer = pair
    payload = bytes((i * 11) & 0xFF for i in range(n))
    raw = wire(2, payload, key=KEY if masked else None) + wire(1, "fin".encode(), key=KEY if masked else None)
    g = trickle(writer, raw, step)
    assert recv_frame(reader, 1 << 20, masked) == (payload, "binary", None)
    assert recv_frame(reader, 1 << 20, masked) == ("fin", "text", None)
    g.join()


def test_fragmented_text_one_byte_at_a_time(pair):
    reader, writer = pair
    word = "日本語".encode()
    raw = (wire(1, word[:4], fin=False, key=KEY) + wire(9, b"!", key=KEY) + wire(0, word[4:8], fin=False, key=KEY)
           + wire(0, word[8:], key=KEY))
    g = trickle(writer, raw, 1)
    state = MessageState()
    got = [recv_frame(reader, 100, True, state=state) for _ in range(4)]
    assert got == [("日", "text", "again"), (b"!", "ping", None), ("本", "continuation", "again"),
                   ("語", "continuation", None)]
    g.join()


def test_send_frame_through_cosocket(pair):
    reader, writer = pair
    sender = TCPSocket.from_accepted(writer, "unix")
    assert send_frame(sender, True, 1, "héllo", 100, True) == (2 + 4 + 6, None)
    assert recv_frame(reader, 100, True) == ("héllo", "text", None)


def test_timeout_and_close_errors(pair):
    reader, writer = pair
    reader.settimeout(30)
    assert recv_frame(reader, 100, False) == (None, None, "failed to receive the first 2 bytes: timeout")
    writer.sendall(bytes([0x82, 10]) + b"abc")
    writer.close()
    reader.settimeout(500)
    assert recv_frame(reader, 100, False) == (None, None, "failed to read masking-len and payload: closed")
