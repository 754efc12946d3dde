"""cosocket.stream: the stream API under the cosocket, on real socket pairs."""
import socket

import gevent
import pytest

from tests.support.sockpair import stream_pair


@pytest.fixture
def pair():
    yield from stream_pair(1000)


def test_recv_into_and_unread(pair):
    stream, peer = pair
    peer.sendall(b"hello world")
    scratch = bytearray(64)
    n, err = stream.recv_into(memoryview(scratch))
    assert (n, err) == (11, None) and scratch[:11] == b"hello world"
    stream.unread(scratch[5:11])
    assert stream.buffered() == 6 and stream.rbuf == b" world"
    stream.consume(1)
    assert stream.read_exactly(5) == (b"world", None)


def test_a_second_reader_is_busy_while_one_waits_even_with_bytes_buffered(pair):
    stream, peer = pair
    stream.unread(b"abc")
    first = gevent.spawn(stream.read_exactly, 6)
    gevent.sleep(0.01)
    assert stream.receive(2) == (None, "socket busy reading", None)  # two values in Lua: no partial
    assert stream.receiveany(2) == (None, "socket busy reading")
    assert stream.read_exactly(1) == (None, "socket busy reading")
    assert stream.recv_into(bytearray(4)) == (None, "socket busy reading")
    peer.sendall(b"def")
    assert first.get(timeout=2) == (b"abcdef", None)


def test_a_frame_reader_waiting_keeps_its_bytes(pair):
    from websocket.protocol import recv_frame
    stream, peer = pair
    reader = gevent.spawn(recv_frame, stream, 100, False)
    gevent.sleep(0.01)
    assert stream.receive(1) == (None, "socket busy reading", None)
    peer.sendall(b"\x82\x03abc")
    assert reader.get(timeout=2) == (b"abc", "binary", None)


def test_a_large_announced_read_grows_with_what_arrives(pair):
    stream, peer = pair
    peer.sendall(b"x" * 1000)
    peer.close()
    assert stream.read_exactly(1 << 45) == (None, "closed")  # no MemoryError: nothing of 32 TiB allocated


def test_read_exactly_large_is_a_bytes_like_whole(pair):
    stream, peer = pair
    data = bytes(range(256)) * 1024
    g = gevent.spawn(peer.sendall, data)
    got, err = stream.read_exactly(len(data))
    g.join()
    assert err is None and bytes(got) == data


def test_send_parts_and_busy_writing(pair):
    stream, peer = pair
    assert stream.send_parts(b"head:", b"payload") == (12, None)
    assert peer.recv(100) == b"head:payload"
    assert stream.send_parts(b"") == (0, None)
    big = b"y" * (4 << 20)
    g = gevent.spawn(stream.send_parts, b"h", big)
    gevent.sleep(0.01)
    assert stream.is_writing()
    assert stream.send_parts(b"z") == (None, "socket busy writing")
    got = 0
    while got < len(big) + 1:
        got += len(peer.recv(1 << 20))
    assert g.get(timeout=5) == (len(big) + 1, None)


def test_hold_writing_keeps_other_sends_out_until_released(pair):
    stream, peer = pair
    fd = stream.direct_write_fd()
    assert fd >= 0
    stream.hold_writing(True)
    assert stream.is_writing() and stream.direct_write_fd() == -1
    assert stream.send_parts(b"z") == (None, "socket busy writing")
    stream.hold_writing(False)
    assert not stream.is_writing() and stream.direct_write_fd() == fd
    assert stream.send_parts(b"z") == (1, None)
    assert peer.recv(10) == b"z"


def test_read_timeout_and_abort(pair):
    stream, peer = pair
    assert stream.read_timeout() == 1.0
    stream.abort()
    assert not stream.readable()
    assert stream.read_exactly(1) == (None, "closed")


def test_the_direct_path_decision_follows_every_change_of_the_stream(pair):
    stream, peer = pair
    fd = stream.direct_read_fd()
    assert fd >= 0 and stream.direct_write_fd() == fd and stream.direct_writer is not None
    # a read deadline keeps reads on the general path (it bounds their waits); sends stay direct
    stream.set_read_deadline(1e18)
    assert stream.direct_read_fd() == -1 and stream.direct_write_fd() == fd
    stream.set_read_deadline(None)
    assert stream.direct_read_fd() == fd
    # a send in progress keeps other direct sends out, and its end lets them in again
    big = b"y" * (4 << 20)
    g = gevent.spawn(stream.send_parts, b"h", big)
    gevent.sleep(0.01)
    assert stream.direct_writer is None and stream.direct_write_fd() == -1 and stream.direct_read_fd() == fd
    got = 0
    while got < len(big) + 1:
        got += len(peer.recv(1 << 20))
    assert g.get(timeout=5) == (len(big) + 1, None)
    assert stream.direct_write_fd() == fd
    # new timeouts are taken into the decision as they are set
    stream.settimeouts(1000, 2000, 3000)
    assert stream.direct_read_fd() == fd and stream.direct_write_fd() == fd
    # the peer's end closes the read side only: sends may still go direct
    peer.shutdown(socket.SHUT_WR)  # the stream reads its end
    assert stream.read_exactly(1) == (None, "closed")
    assert stream.direct_read_fd() == -1 and stream.direct_write_fd() == fd
    stream.abort()
    assert stream.direct_read_fd() == -1 and stream.direct_write_fd() == -1 and stream.direct_writer is None


def test_a_drained_direct_reader_waits_in_direct_read_fd(pair):
    stream, peer = pair
    fd = stream.direct_read_fd()
    stream.drained = True
    assert stream.direct_read_fd(0.05) == "idle"  # the wait's failure, not logged, the stream usable
    gevent.spawn_later(0.02, peer.sendall, b"x")
    assert stream.direct_read_fd() == fd  # woke by the bytes: the descriptor to read them on
