"""websocket.protocol over a real socketpair and the cosocket reader, data trickling in small pieces."""
import gevent
import pytest
from gevent import socket

from cosocket.tcp import TCPSocket
from tests.support.sockpair import stream_pair
from websocket.protocol import MessageState, recv_frame, send_frame

from .test_protocol import KEY, wire


@pytest.fixture(autouse=True, params=["c", "python"])
def frame_code(request, monkeypatch):
    """Every test here runs twice: with the C frame functions (when built) and with their Python twins."""
    from websocket import frames
    if request.param == "python":
        monkeypatch.setattr(frames, "apply_mask", frames.py_apply_mask)
        monkeypatch.setattr(frames, "parse", frames.py_parse)
    elif frames.parse is frames.py_parse:
        pytest.skip("C extension not built: no C compiler (pure-Python fallback in use)")
    return request.param


@pytest.fixture
def pair():
    yield from stream_pair(2000)


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


@pytest.mark.parametrize("n", [0, 1, 125, 126, 1000, 4000])
@pytest.mark.parametrize("strict", [False, True])
def test_whole_buffered_frames_take_the_fast_path_with_the_same_results(pair, n, strict):
    reader, writer = pair
    payload = bytes((i * 7) & 0xFF for i in range(n))
    text = ("é" * (n // 2)).encode()
    writer.sendall(wire(2, payload, key=KEY) + wire(1, text, key=KEY) + wire(2, b"xyz", fin=False, key=KEY)
                   + wire(0, b"!", key=KEY) + wire(9, b"p", key=KEY))
    gevent.sleep(0.01)
    state = MessageState()
    assert recv_frame(reader, 1 << 20, True, state=state, strict=strict) == (payload, "binary", None)
    assert state.received == n
    # the other frames follow in the same buffer: the fast path must leave them intact
    assert recv_frame(reader, 1 << 20, True, state=state, strict=strict) == (text.decode(), "text", None)
    assert recv_frame(reader, 1 << 20, True, state=state, strict=strict) == (b"xyz", "binary", "again")
    assert recv_frame(reader, 1 << 20, True, state=state, strict=strict) == (b"!", "continuation", None)
    assert recv_frame(reader, 1 << 20, True, state=state, strict=strict) == (b"p", "ping", None)


def test_fast_path_applies_the_limits_and_utf8_rules(pair):
    reader, writer = pair
    state = MessageState(max_message_len=10)
    writer.sendall(wire(2, b"x" * 11, key=KEY))
    gevent.sleep(0.01)
    assert recv_frame(reader, 100, True, state=state, strict=True) == (None, None, "message too big")


def test_fast_path_applies_max_payload_len(pair):
    reader, writer = pair
    writer.sendall(wire(2, b"x" * 11, key=KEY))
    gevent.sleep(0.01)
    assert recv_frame(reader, 5, True, state=MessageState()) == (None, None, "exceeding max payload len")


def test_fast_path_refuses_bad_utf8(pair):
    reader, writer = pair
    writer.sendall(wire(1, b"ok\xed\xa0\x80", key=KEY))
    gevent.sleep(0.01)
    state = MessageState()
    assert recv_frame(reader, 100, True, state=state, strict=True) == (None, None, "invalid UTF-8 text payload")
    assert state.opcode is None


def test_reads_after_a_drained_buffer_still_see_later_data(pair):
    reader, writer = pair
    for i in range(5):
        writer.sendall(wire(2, bytes([i]) * 3, key=KEY))
        assert recv_frame(reader, 100, True, state=MessageState()) == (bytes([i]) * 3, "binary", None)
    assert reader.drained  # each short read marked the kernel buffer empty: the next read waits first


@pytest.mark.parametrize("n", [2048, 70000, 3 << 20])
def test_large_frames_go_out_as_head_and_payload_even_when_the_kernel_takes_part(pair, n):
    reader, writer = pair
    sender = TCPSocket.from_accepted(writer, "unix")
    sender.settimeout(2000)
    payload = bytes((i * 13) & 0xFF for i in range(256)) * (n // 256)
    result = {}
    g = gevent.spawn(lambda: result.update(sent=send_frame(sender, True, 2, payload, 1 << 23, False)))
    assert recv_frame(reader, 1 << 23, False) == (payload, "binary", None)
    g.join()
    n = len(payload)
    assert result["sent"] == ((4 if n <= 0xFFFF else 10) + n, None)


def test_a_whole_frame_then_half_of_the_next_in_one_read(pair):
    reader, writer = pair
    second = wire(2, b"second" * 50, key=KEY)
    writer.sendall(wire(1, b"first", key=KEY) + second[:100])
    gevent.sleep(0.01)
    state = MessageState()
    assert recv_frame(reader, 1000, True, state=state) == ("first", "text", None)
    # the half frame left in the read went back into the socket's own buffer
    assert reader.buffered() == 100
    g = trickle(writer, second[100:], 64)
    assert recv_frame(reader, 1000, True, state=state) == (b"second" * 50, "binary", None)
    g.join()


def test_frame_reader_in_another_thread_uses_its_own_scratch_buffer():
    import threading
    from websocket import connection

    results = {}
    main_scratch = connection._scratch.buf

    def in_thread(tag):
        a, b = socket.socketpair()
        reader = TCPSocket.from_accepted(a, "unix")
        reader.settimeout(2000)
        try:
            got = []
            for i in range(50):
                payload = bytes([tag, i]) * 500
                b.sendall(wire(2, payload, key=KEY))
                got.append(recv_frame(reader, 1 << 16, True, state=MessageState())[0] == payload)
            channel = connection.Channel(reader, 1 << 16, 1 << 16, False, True)  # (keeps this thread's buffer)
            for i in range(50):
                payload = bytes([i, tag]) * 500
                b.sendall(wire(2, payload, key=KEY))
                got.append(channel.recv_frame()[0] == payload)
            results[tag] = all(got) and connection.thread_scratch() is not main_scratch
        finally:
            a.close()
            b.close()

    threads = [threading.Thread(target=in_thread, args=(tag,)) for tag in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {1: True, 2: True}


# ------------------------------------------------ the direct path of the frame methods (Channel)
from websocket.protocol import Channel  # noqa: E402


def _channel(sock, timeout=2000):
    sock.settimeout(timeout)
    return Channel(sock, 1 << 23, 1 << 23, False, True)


def test_channel_sends_a_large_frame_the_kernel_takes_in_parts(pair):
    reader, writer = pair
    sender = _channel(TCPSocket.from_accepted(writer, "unix"))
    payload = bytes((i * 13) & 0xFF for i in range(256)) * (3 << 12)
    result = {}
    g = gevent.spawn(lambda: result.update(sent=sender.send_binary(payload)))
    assert recv_frame(reader, 1 << 23, False) == (payload, "binary", None)
    g.join()
    assert result["sent"] == (10 + len(payload), None)


@pytest.mark.parametrize("data,frame", [("héllo", b"\x81\x06h\xc3\xa9llo"), (b"\x00\x01", b"\x82\x02\x00\x01"),
                                        (42, b"\x82\x0242"), (None, b"\x82\x00")])
def test_channel_direct_send_puts_exactly_the_frame_on_the_wire(pair, data, frame):
    reader, writer = pair
    sender = _channel(TCPSocket.from_accepted(writer, "unix"))
    send = sender.send_text if isinstance(data, str) else sender.send_binary
    assert send(data) == (len(frame), None)
    assert reader.receive(len(frame)) == (frame, None, None)


def test_channel_send_to_a_closed_peer_fails_once_then_is_fatal(pair):
    reader, writer = pair
    sender = _channel(TCPSocket.from_accepted(writer, "unix"))
    reader._finalize()
    for _ in range(5):
        sent, err = sender.send_binary(b"x" * 1000)
        if sent is None:
            break
    assert err in ("failed to send frame: broken pipe", "failed to send frame: connection reset by peer")
    assert sender.fatal
    assert sender.sock.send(b"x") == (None, "closed")  # a failed send closed the write side
    assert sender.send_binary(b"again") == (None, "fatal error already happened")


def test_channel_recv_timeout_then_data(pair):
    reader, writer = pair
    wb = _channel(reader, timeout=50)
    assert wb.recv_frame() == (None, None, "failed to receive the first 2 bytes: timeout")
    assert not wb.fatal and reader._raw is not None
    writer.sendall(wire(2, b"late", key=KEY))
    assert wb.recv_frame() == (b"late", "binary", None)


def test_channel_recv_after_peer_closed(pair):
    reader, writer = pair
    wb = _channel(reader)
    writer.sendall(wire(2, b"last", key=KEY))
    writer.close()
    assert wb.recv_frame() == (b"last", "binary", None)
    assert wb.recv_frame() == (None, None, "failed to receive the first 2 bytes: closed")
    assert wb.fatal and not reader.readable()  # the failed read closed the read side


def test_channel_second_reader_is_told_the_socket_is_busy(pair):
    reader, writer = pair
    wb = _channel(reader)
    first = gevent.spawn(wb.recv_frame)
    gevent.sleep(0.01)  # the first reader waits for data
    assert wb.recv_frame() == (None, None, "failed to receive the first 2 bytes: socket busy reading")
    writer.sendall(wire(2, b"for the first", key=KEY))
    assert first.get(timeout=2) == (b"for the first", "binary", None)


@pytest.mark.parametrize("masked", [False, True])
def test_large_payload_cut_by_a_timeout_or_a_close(pair, masked):
    reader, writer = pair
    payload = bytes(range(256)) * 1024
    raw = wire(2, payload, key=KEY if masked else None)
    reader.settimeout(100)
    writer.sendall(raw[:150000])
    assert recv_frame(reader, 1 << 20, masked) == (None, None, "failed to read masking-len and payload: timeout")
    assert reader._raw is not None  # a timeout leaves the connection open
    writer.sendall(wire(2, b"next", key=KEY if masked else None) + raw[:70000])
    writer.close()
    assert recv_frame(reader, 1 << 20, masked) == (b"next", "binary", None)
    assert recv_frame(reader, 1 << 20, masked) == (None, None, "failed to read masking-len and payload: closed")
    assert not reader.readable()  # the failed read closed the read side


def test_large_payload_then_a_small_frame_in_the_same_reads(pair):
    reader, writer = pair
    payload = bytes(range(256)) * 700
    writer.sendall(wire(2, payload, key=KEY) + wire(1, b"tail", key=KEY))
    state = MessageState()
    assert recv_frame(reader, 1 << 20, True, state=state) == (payload, "binary", None)
    assert recv_frame(reader, 1 << 20, True, state=state) == ("tail", "text", None)


# ------------------------------------------------ payload types, announced lengths, extension hook, pre-built frames
@pytest.mark.parametrize("n", [0, 100, 70000, 1 << 20])
@pytest.mark.parametrize("masked", [False, True])
def test_payloads_are_bytes_on_every_path(pair, n, masked):
    reader, writer = pair
    payload = bytes((i * 7) & 0xFF for i in range(n))
    g = trickle(writer, wire(2, payload, key=KEY if masked else None), 65536)
    data, typ, err = recv_frame(reader, 1 << 21, masked)
    g.join()
    assert (data, typ, err) == (payload, "binary", None)
    assert type(data) is bytes
    assert b"" == bytes() and len(b"") == 0  # nothing wrote into the shared empty bytes


def test_wss_large_binary_payload_is_bytes(server_cert):
    from gevent import ssl
    from websocket import client
    from .peer import Peer
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(ctx)
    p = Peer(ssl_context=ctx)
    try:
        wb, _ = client.new(timeout=5000, max_payload_len=1 << 21)
        assert wb.connect(p.url(scheme="wss"))[:2] == (1, None)
        payload = bytes(range(256)) * 4096
        assert wb.send_binary(payload)[1] is None
        data, typ, err = wb.recv_frame()
        assert (typ, err) == ("binary", None) and data == payload and type(data) is bytes
        wb.close()
    finally:
        p.stop()


def test_an_announced_length_allocates_nothing(pair):
    reader, writer = pair
    head = bytes((0x82, 0x80 | 127)) + (1 << 39).to_bytes(8, "big") + KEY
    writer.sendall(head + b"x" * 100)
    writer.close()
    assert recv_frame(reader, 1 << 40, True) == (None, None, "failed to read masking-len and payload: closed")


def test_rsv1_refused_unless_an_extension_inflates(pair):
    reader, writer = pair
    writer.sendall(wire(2, b"abc", key=KEY, rsv=0x40))
    state = MessageState()
    assert recv_frame(reader, 100, True, state=state) == (None, None, "bad RSV1, RSV2, or RSV3 bits")
    assert state.refused == 1002


def test_the_extension_hook_sees_rsv1_messages_whole(pair):
    reader, writer = pair
    seen = []

    def inflate(payload, fin):
        seen.append((payload, fin))
        return payload.upper()

    state = MessageState()
    state.inflate = inflate
    writer.sendall(wire(1, b"ab", fin=False, key=KEY, rsv=0x40) + wire(0, b"cd", key=KEY) + wire(1, b"plain", key=KEY)
                   + wire(9, b"p", key=KEY, rsv=0x40))
    assert recv_frame(reader, 100, True, state=state) == ("AB", "text", "again")
    assert state.compressed  # (the message in progress goes through the hook)
    assert recv_frame(reader, 100, True, state=state) == ("CD", "continuation", None)
    assert recv_frame(reader, 100, True, state=state) == ("plain", "text", None)
    assert seen == [(b"ab", False), (b"cd", True)]
    # RSV1 on a control frame stays refused
    assert recv_frame(reader, 100, True, state=state) == (None, None, "bad RSV1, RSV2, or RSV3 bits")


def test_one_prebuilt_frame_sent_to_many_connections():
    from websocket.protocol import build_frame
    frame = build_frame(True, 1, 5, b"hello", False)
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        channels = [_channel(TCPSocket.from_accepted(a, "unix")) for a, _ in pairs]
        for ch in channels:
            assert ch.send_framed(frame) == (len(frame), None)
        for _, b in pairs:
            reader = TCPSocket.from_accepted(b, "unix")
            reader.settimeout(1000)
            assert recv_frame(reader, 100, False) == ("hello", "text", None)
    finally:
        for a, b in pairs:
            a.close()
            b.close()


@pytest.mark.parametrize("buffered", [b"", b"\x82"])
def test_a_second_frame_reader_is_busy_and_takes_no_bytes(pair, buffered):
    # one frame reader at a time, also when part of the next frame already sits in the buffer
    reader, writer = pair
    frame = wire(2, b"mine", key=KEY)
    if buffered:
        reader.unread(frame[:1])
        frame = frame[1:]
    first = gevent.spawn(recv_frame, reader, 1 << 20, True)
    gevent.sleep(0.01)
    assert recv_frame(reader, 1 << 20, True) == (None, None, "failed to receive the first 2 bytes: socket busy reading")
    writer.sendall(frame)
    assert first.get(timeout=2) == (b"mine", "binary", None)
