"""Hostile input: every length a peer declares is checked against its limit before memory is spent on it."""
import socket
import struct
import time
import tracemalloc

import pytest

from tests.reliability.conftest import conf, rss_kib, wait_workers, worker_pids
from tests.reliability.wsraw import RawWS, frame
from tests.support.rawhttp import Conn
from tests.websocket.fakesock import FakeSocket
from websocket.protocol import MAX_FRAME_LEN, MessageState, recv_frame

HTTP = """
    client_max_body_size 1k;
    large_client_header_buffers 2 1k;
    server {
        listen 127.0.0.1:{port};
        location = /ws { content_by_python relapp:ws_echo; }
        location = /msg { content_by_python relapp:ws_message; }
        location = /sha { content_by_python relapp:sha; }
        location = /pid { content_by_python relapp:pid; }
    }
"""


@pytest.fixture
def srv(start_server):
    srv = start_server(conf(HTTP))
    wait_workers(srv, 1)
    return srv


def _huge_head(length, opcode=0x2, mask=True):
    """A frame head declaring `length` payload bytes (64-bit form), no payload."""
    head = struct.pack("!BBQ", 0x80 | opcode, (0x80 if mask else 0) | 127, length)
    return head + (b"\x01\x02\x03\x04" if mask else b"")


# -- frames, in process: no allocation for a declared length ------------------------------------

@pytest.mark.parametrize("length", [65536, 1 << 32, MAX_FRAME_LEN])
def test_a_frame_declaring_a_huge_length_is_refused_before_any_payload_is_read(length):
    sock = FakeSocket(_huge_head(length))
    tracemalloc.start()
    try:
        data, typ, err = recv_frame(sock, 65535, True, state=MessageState())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (data, typ, err) == (None, None, "exceeding max payload len")
    assert peak < 16 * 1024
    assert sum(sock.receive_calls) == 14  # the 2-byte head, then length + key: not one payload byte asked


def test_a_length_with_the_top_bit_set_is_refused():
    sock = FakeSocket(struct.pack("!BBQ", 0x82, 0xFF, 1 << 63) + b"abcd")
    assert recv_frame(sock, MAX_FRAME_LEN, True) == (None, None, "payload len too large")


def test_a_control_frame_claiming_more_than_125_bytes_is_refused_before_reading():
    for opcode in (0x8, 0x9, 0xA):
        sock = FakeSocket(frame(opcode, declared_len=70000))
        assert recv_frame(sock, MAX_FRAME_LEN, True) == (None, None, "too long payload for control frame")
        assert sum(sock.receive_calls) == 14


def test_fragments_adding_up_past_max_message_len_are_refused_before_the_last_is_read():
    state = MessageState(max_message_len=10000)
    first = frame(0x2, b"a" * 6000, fin=False)
    second_head = frame(0x0, declared_len=6000, fin=True)  # no payload follows: it must not be awaited
    sock = FakeSocket(first + second_head)
    data, typ, err = recv_frame(sock, 65535, True, state=state, strict=True)
    assert (typ, err) == ("binary", "again")
    assert recv_frame(sock, 65535, True, state=state, strict=True) == (None, None, "message too big")


# -- frames, through the real server -------------------------------------------------------------

def test_a_peer_claiming_a_2_63_byte_frame_costs_the_server_nothing(srv):
    (pid,) = worker_pids(srv)
    warm = RawWS(srv.port)
    warm.send_frame(0x1, b"warm")
    assert warm.recv_frame() == (0x1, b"warm")
    warm.close()
    before = rss_kib(pid)
    for _ in range(20):
        ws = RawWS(srv.port)
        ws.send(_huge_head(MAX_FRAME_LEN))
        assert ws.closed_by_server(2.0)  # refused at once, not waiting for 8 EiB
        ws.close()
    grown = rss_kib(pid) - before
    assert grown < 4096, "worker RSS grew by %d KiB" % grown
    assert "ws_echo ended: exceeding max payload len" in srv.error_log()
    ok = RawWS(srv.port)
    ok.send_frame(0x1, b"still serving")
    assert ok.recv_frame() == (0x1, b"still serving")


def test_a_fragmented_message_over_max_message_len_gets_close_1009(srv):
    ws = RawWS(srv.port, "/msg")
    ws.send_frame(0x2, b"x" * 4000, fin=False)
    ws.send_frame(0x0, b"x" * 4000, fin=False)
    ws.send_frame(0x0, b"x" * 4000, fin=True)
    opcode, payload = ws.recv_frame()
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1009
    assert ws.closed_by_server()


def test_a_too_long_close_reason_is_refused_with_1002(srv):
    ws = RawWS(srv.port, "/msg")
    ws.send_frame(0x8, struct.pack("!H", 1000) + b"r" * 200)  # 202 bytes: over the 125 of a control frame
    opcode, payload = ws.recv_frame()
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1002
    assert ws.closed_by_server()


# -- HTTP ------------------------------------------------------------------------------------------

def test_a_huge_content_length_is_refused_with_413_before_reading(srv):
    c = Conn(srv.port)
    c.send(b"POST /sha HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\n")
    assert c.read_response().status == 413
    assert "client intended to send too large body: 9223372036854775807 bytes" in srv.error_log()


def test_a_content_length_beyond_63_bits_is_a_400_as_nginx(srv):
    c = Conn(srv.port)
    c.send(b"POST /sha HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n")
    assert c.read_response().status == 400


def test_a_content_length_beyond_64_bits_or_negative_is_a_400(srv):
    for value in (b"-1", b"1e3", b"0x10", b"184467440737095516160000"):
        c = Conn(srv.port)
        c.send(b"POST /sha HTTP/1.1\r\nHost: x\r\nContent-Length: " + value + b"\r\n\r\n")
        status = c.read_response().status
        assert status in (400, 413), (value, status)


def test_a_chunk_declaring_a_huge_size_is_refused_with_413_before_reading(srv):
    c = Conn(srv.port)
    c.send(b"POST /sha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7ffffffffffffff\r\n")
    assert c.read_response().status == 413


def test_a_chunk_size_beyond_59_bits_is_a_400_as_nginx(srv):
    c = Conn(srv.port)
    c.send(b"POST /sha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n")
    assert c.read_response().status == 400


def test_a_chunk_size_line_without_end_is_cut_at_its_limit(srv):
    c = Conn(srv.port)
    c.send(b"POST /sha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"0" * 8192)
    assert c.read_response().status == 400


def test_a_head_larger_than_the_header_buffers_is_refused(srv):
    c = Conn(srv.port)
    c.send(b"GET /pid HTTP/1.1\r\nHost: x\r\n" + b"X-A: " + b"a" * 2000 + b"\r\n\r\n")
    assert c.read_response().status == 400  # 494 is written as 400 Request Header Or Cookie Too Large
    c = Conn(srv.port)
    c.send(b"GET /" + b"u" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.read_response().status == 414
    many = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 500) for i in range(10))  # lines fit, the head does not
    c = Conn(srv.port)
    c.send(b"GET /pid HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert c.read_response().status == 400


def test_an_endless_header_stream_costs_bounded_memory(srv):
    (pid,) = worker_pids(srv)
    before = rss_kib(pid)
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
        s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(64):
                s.sendall(b"X-Pad: " + b"p" * 500 + b"\r\n")  # 32 KiB of header lines, more than 2k allowed
        except OSError:
            pass  # the server already answered and closed
        socks.append(s)
    time.sleep(0.2)
    assert rss_kib(pid) - before < 4096
    for s in socks:
        s.close()
    assert Conn(srv.port).request("GET", "/pid").status == 200
