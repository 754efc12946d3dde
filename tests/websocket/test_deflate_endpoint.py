"""permessage-deflate on the endpoint objects (in memory): sending, prepared messages, inflated limits."""
import zlib

import pytest

from websocket import deflate
from websocket.deflate import Agreement, PerMessageDeflate, PreparedMessage
from websocket.message import Endpoint

from .fakesock import FakeSocket as _FakeSocket

TEXT = '{"event": "tick", "values": [%s]}' % ", ".join(str(i) for i in range(100))


class FakeSocket(_FakeSocket):
    """The in-memory socket, with what ending a connection calls."""

    def receiveany(self, n):
        return None, self.eof_err

    def close(self):
        return 1, None

    def abort(self):
        pass


def frame(first: int, payload: bytes) -> bytes:
    """An unmasked frame (a server's, read by a client endpoint)."""
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    return bytes((first, 126)) + n.to_bytes(2, "big") + payload


def compressed(data: bytes, bits: int = 15) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -bits)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def parse(sent: bytes):
    """[(first byte, payload)] of unmasked frames."""
    out = []
    i = 0
    while i < len(sent):
        first, n = sent[i], sent[i + 1] & 0x7F
        i += 2
        if n == 126:
            n = int.from_bytes(sent[i:i + 2], "big")
            i += 2
        out.append((first, sent[i:i + n]))
        i += n
    return out


def server(sock, agreement=None, **kw):
    wb = Endpoint(sock, kw.pop("max_recv_len", 65535), 65535, False, False, is_server=True, **kw)
    if agreement is not None:
        wb.use_deflate(PerMessageDeflate(agreement, True), "permessage-deflate")
    return wb


def client(sock, agreement=None, **kw):
    wb = Endpoint(sock, kw.pop("max_recv_len", 65535), 65535, True, False, is_server=False, **kw)
    if agreement is not None:
        wb.use_deflate(PerMessageDeflate(agreement, False), "permessage-deflate")
    return wb


def test_off_by_default_sends_plain_and_refuses_rsv1():
    sock = FakeSocket(frame(0xC1, compressed(b"x")))
    wb = server(sock)
    assert wb.extensions is None and wb.permessage_deflate is None
    wb.send_text("hi")
    assert parse(sock.sent_bytes()) == [(0x81, b"hi")]
    assert wb.recv_frame() == (None, None, "bad RSV1, RSV2, or RSV3 bits")


def test_send_text_and_binary_compress_with_rsv1():
    sock = FakeSocket()
    wb = server(sock, Agreement())
    wb.send_text(TEXT)
    wb.send_binary(TEXT.encode())
    frames = parse(sock.sent_bytes())
    assert [f for f, _ in frames] == [0xC1, 0xC2]
    d = zlib.decompressobj(-15)
    assert [d.decompress(p + b"\x00\x00\xff\xff") for _, p in frames] == [TEXT.encode()] * 2
    assert len(frames[1][1]) < len(frames[0][1])  # context takeover


def test_compress_false_sends_plain():
    sock = FakeSocket()
    wb = server(sock, Agreement())
    wb.send_text("plain", compress=False)
    wb.send_binary(b"\x89PNG", compress=False)
    assert parse(sock.sent_bytes()) == [(0x81, b"plain"), (0x82, b"\x89PNG")]


def test_send_frame_keeps_its_raw_meaning():
    sock = FakeSocket()
    wb = server(sock, Agreement())
    wb.send_frame(True, 0x1, "as is")
    assert parse(sock.sent_bytes()) == [(0x81, b"as is")]


@pytest.mark.parametrize("size,err", [(10, None), (11, "payload too big")])
def test_compressed_send_checks_max_send_len_on_the_message(size, err):
    wb = Endpoint(FakeSocket(), 65535, 10, False, False, is_server=True)
    wb.use_deflate(PerMessageDeflate(Agreement(), True), "permessage-deflate")
    assert wb.send_text("a" * size)[1] == err
    assert wb.fatal is (err is not None)  # a refused send is fatal, as every send's refusal


def test_client_compressed_frames_are_masked():
    sock = FakeSocket()
    wb = client(sock, Agreement())
    wb.send_text(TEXT)
    sent = sock.sent_bytes()
    assert sent[0] == 0xC1 and sent[1] & 0x80


def test_recv_message_inflates_and_keeps_uncompressed_messages():
    payload = compressed(TEXT.encode())
    sock = FakeSocket(frame(0x41, payload[:10]) + frame(0x80, payload[10:]) + frame(0x82, b"raw"))
    wb = client(sock, Agreement())
    assert wb.recv_message() == (TEXT, "text", None)
    assert wb.recv_message() == (b"raw", "binary", None)


def test_recv_frame_inflates_each_fragment():
    payload = compressed(TEXT.encode() * 20)
    half = len(payload) // 2
    wb = client(FakeSocket(frame(0x42, payload[:half]) + frame(0x80, payload[half:])), Agreement())
    first = wb.recv_frame()
    second = wb.recv_frame()
    assert (first[1:], second[1:]) == (("binary", "again"), ("continuation", None))
    assert first[0] + second[0] == TEXT.encode() * 20


def test_fragment_over_max_recv_len_once_inflated_is_1009():
    wb = client(FakeSocket(frame(0xC2, compressed(b"\0" * 5000))), Agreement(), max_recv_len=4096)
    assert wb.recv_message() == (None, None, "exceeding max payload len")
    assert wb.state.refused == 1009


def three_fragment_client():
    """A client (max_recv_len 4096, max_message_len 8000) reading one compressed message of 9000 zero bytes
    sent as three fragments of 3000 inflated bytes each."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    part = c.compress(b"\0" * 3000) + c.flush(zlib.Z_SYNC_FLUSH)
    return client(FakeSocket(frame(0x42, part) + frame(0x00, part) + frame(0x80, part[:-4])), Agreement(),
                  max_recv_len=4096, max_message_len=8000)


def test_message_over_max_message_len_once_inflated_is_1009():
    wb = three_fragment_client()
    assert wb.recv_message() == (None, None, "message too big")
    assert wb.state.refused == 1009


def test_non_strict_recv_frame_bounds_fragments_not_messages():
    # upstream's frame level: max_recv_len bounds each (inflated) frame; the script joins the message
    wb = three_fragment_client()
    got = [wb.recv_frame() for _ in range(3)]
    assert [len(d) for d, _, _ in got] == [3000, 3000, 3000]


def test_bad_stream_is_1007_with_its_reason():
    wb = client(FakeSocket(frame(0xC2, b"\xff\xff\xff")), Agreement())
    data, typ, err = wb.recv_message()
    assert data is None and err.startswith("invalid compressed data: ")
    assert wb.state.refused == 1007


def test_prepared_message_compresses_once_for_many_connections(monkeypatch):
    calls = []
    real = deflate.compress_message

    def counting(*args, **kw):
        calls.append(args)
        return real(*args, **kw)

    monkeypatch.setattr(deflate, "compress_message", counting)
    message = PreparedMessage(TEXT)
    socks = [FakeSocket() for _ in range(5)]
    for sock in socks:
        wb = server(sock, Agreement(server_no_context_takeover=True, server_max_window_bits=12))
        assert wb.send_prepared(message)[1] is None
    assert len(calls) == 1
    sent = {sock.sent_bytes() for sock in socks}
    assert len(sent) == 1
    [(first, payload)] = parse(sent.pop())
    assert first == 0xC1
    assert zlib.decompressobj(-12).decompress(payload + b"\x00\x00\xff\xff") == TEXT.encode()


def test_prepared_message_plain_and_takeover_connections():
    message = PreparedMessage(TEXT.encode())
    plain, takeover = FakeSocket(), FakeSocket()
    server(plain).send_prepared(message)
    wb = server(takeover, Agreement())
    wb.send_prepared(message)
    wb.send_prepared(message)
    assert parse(plain.sent_bytes()) == [(0x82, TEXT.encode())]
    frames = parse(takeover.sent_bytes())
    assert [f for f, _ in frames] == [0xC2, 0xC2]
    assert len(frames[1][1]) < len(frames[0][1])  # compressed for this connection, with its context
    d = zlib.decompressobj(-15)
    assert [d.decompress(p + b"\x00\x00\xff\xff") for _, p in frames] == [TEXT.encode()] * 2


def test_prepared_message_uncompressed_on_request_and_client_masks():
    message = PreparedMessage("hello")
    sock = FakeSocket()
    server(sock, Agreement(server_no_context_takeover=True)).send_prepared(message, compress=False)
    assert parse(sock.sent_bytes()) == [(0x81, b"hello")]
    sock = FakeSocket()
    client(sock, Agreement(client_no_context_takeover=True)).send_prepared(message)
    sent = sock.sent_bytes()
    assert sent[0] == 0xC1 and sent[1] & 0x80


@pytest.mark.parametrize("bits", [9, 12, 15])
def test_prepared_message_frame_cache_per_window(bits):
    message = PreparedMessage(TEXT)
    assert message.frame(bits) is message.frame(bits)
    assert message.frame(None)[0] == 0x81 and message.frame(bits)[0] == 0xC1
