"""receiveuntil: the iterator's documented behaviour (lua-nginx-module README and t/066, t/084)."""
import gevent
import pytest
from gevent.server import StreamServer

from cosocket import ngx


@pytest.fixture
def stream():
    """stream(b"data", pause=0, chunks=None) -> a connected cosocket reading that data, then EOF."""
    servers = []

    def start(data=b"", chunks=None, linger=0.0):
        def handler(s, addr):
            for piece in (chunks or [data]):
                if isinstance(piece, float):
                    gevent.sleep(piece)
                else:
                    s.sendall(piece)
            if linger:
                gevent.sleep(linger)
            s.close()

        srv = StreamServer(("127.0.0.1", 0), handler)
        srv.start()
        servers.append(srv)
        sock = ngx.socket.tcp()
        sock.settimeout(1000)
        assert sock.connect("127.0.0.1", srv.server_port) == (1, None)
        return sock

    yield start
    for srv in servers:
        srv.stop(timeout=0.1)


def test_readme_example_without_size(stream):
    sock = stream(b"hello, world! -agentzh\r\n--abcedhb blah blah")
    reader = sock.receiveuntil("\r\n--abcedhb")
    assert reader() == (b"hello, world! -agentzh", None, None)
    assert sock.receive("*a") == (b" blah blah", None, None)


def test_readme_example_with_size(stream):
    sock = stream(b"hello, world! -agentzh\r\n--abcedhb blah blah")
    reader = sock.receiveuntil("\r\n--abcedhb")
    chunks = []
    while True:
        data, err, partial = reader(4)
        if data is None:
            assert (err, partial) == (None, None)
            break
        chunks.append(data)
    assert chunks == [b"hell", b"o, w", b"orld", b"! -a", b"gent", b"zh"]
    # the iterator is reset after its last successful invocation
    assert reader(4) == (b" bla", None, None)


def test_size_exactly_at_boundary_gives_empty_chunk(stream):
    sock = stream(b"abcdefgh--ENDtail")
    reader = sock.receiveuntil("--END")
    assert reader(4) == (b"abcd", None, None)
    assert reader(4) == (b"efgh", None, None)
    assert reader(4) == (b"", None, None)
    assert reader(4) == (None, None, None)
    assert sock.receive(4) == (b"tail", None, None)


def test_ambiguous_pattern_with_size(stream):  # t/066 TEST 15
    sock = stream(b"hello, world ----abc\n")
    reader = sock.receiveuntil("--abc")
    assert [reader(4) for _ in range(6)] == [
        (b"hell", None, None), (b"o, w", None, None), (b"orld", None, None), (b" --", None, None),
        (None, None, None), (None, "closed", b"\n")]


def test_mixed_with_other_reads(stream):  # t/066 TEST 17
    sock = stream(b"hello, world ----abc\n")
    reader = sock.receiveuntil("--abc")
    out = []
    for _ in range(5):
        out.append(reader(4))
        out.append(sock.receive(1))
    assert out == [
        (b"hell", None, None), (b"o", None, None), (b", wo", None, None), (b"r", None, None),
        (b"ld -", None, None), (b"-", None, None), (b"", None, None), (b"\n", None, None),
        (None, None, None), (None, "closed", b"")]


def test_pending_bytes(stream):  # t/066 TEST 20
    sock = stream(b"-----abc\n")
    reader = sock.receiveuntil("--abc")
    assert [reader(2) for _ in range(4)] == [
        (b"--", None, None), (b"-", None, None), (None, None, None), (None, "closed", b"\n")]


def test_repeated_calls_without_size(stream):  # t/084 style, exclusive
    sock = stream(b"abcabcabdabcabd")
    reader = sock.receiveuntil("abd")
    assert reader() == (b"abcabc", None, None)
    assert reader() == (b"abc", None, None)
    assert reader() == (None, "closed", b"")


def test_inclusive(stream):
    sock = stream(b"hello world _END_ blah blah")
    reader = sock.receiveuntil("_END_", {"inclusive": True})
    assert reader() == (b"hello world _END_", None, None)
    sock2 = stream(b"hello, world ----abc\n")
    reader2 = sock2.receiveuntil("--abc", inclusive=True)
    assert [reader2(4) for _ in range(6)] == [
        (b"hell", None, None), (b"o, w", None, None), (b"orld", None, None), (b" ----abc", None, None),
        (None, None, None), (None, "closed", b"\n")]


def test_pattern_split_across_packets(stream):
    sock = stream(chunks=[b"first part\r", 0.03, b"\n--bou", 0.03, b"ndary rest"])
    reader = sock.receiveuntil("\r\n--boundary")
    assert reader() == (b"first part", None, None)
    assert sock.receive(5) == (b" rest", None, None)


def test_size_returns_data_before_a_possible_pattern_start(stream):
    sock = stream(chunks=[b"ab-", 0.2], linger=0.2)
    reader = sock.receiveuntil("-X")
    sock.settimeout(100)
    # only "ab" is certain data; the "-" may start the pattern: the iterator waits for more
    assert reader(2) == (b"ab", None, None)
    assert reader(2) == (None, "timeout", b"")
    # the held "-" is still there: a later "X" completes the pattern
    assert sock.buffered() == 1


def test_held_bytes_complete_pattern_after_timeout(stream):
    sock = stream(chunks=[b"ab-", 0.15, b"Xcd"], linger=0.1)
    sock.settimeout(50)
    reader = sock.receiveuntil("-X")
    assert reader() == (None, "timeout", b"ab")
    sock.settimeout(500)
    assert reader() == (b"", None, None)
    assert sock.receive(2) == (b"cd", None, None)


def test_closed_partial_leaves_out_a_started_pattern(stream):
    sock = stream(b"line without end\r")
    reader = sock.receiveuntil("\r\n")
    assert reader() == (None, "closed", b"line without end")


def test_timeout_partial_and_connection_stays_open(stream):
    sock = stream(chunks=[b"some data", 0.15, b" more--END"], linger=0.1)
    sock.settimeout(50)
    reader = sock.receiveuntil("--END")
    assert reader() == (None, "timeout", b"some data")
    sock.settimeout(500)
    assert reader() == (b" more", None, None)


def test_closed_gives_partial(stream):
    sock = stream(b"no boundary here")
    reader = sock.receiveuntil("\r\n")
    assert reader() == (None, "closed", b"no boundary here")
    assert reader() == (None, "closed", None)


def test_large_stream_many_boundaries(stream):
    parts = [bytes([65 + i % 26]) * (1000 + i) for i in range(200)]
    sock = stream(b"|".join(parts) + b"|")
    reader = sock.receiveuntil(b"|")
    got = [reader()[0] for _ in range(200)]
    assert got == parts


def test_arguments(stream):
    sock = stream(b"x")
    with pytest.raises(TypeError):
        sock.receiveuntil("")
    with pytest.raises(TypeError):
        sock.receiveuntil("a", {"inclusive": "yes"})
    with pytest.raises(TypeError, match="bogus"):
        sock.receiveuntil("a", bogus=True)
    assert callable(sock.receiveuntil("a", {"bogus": True}))  # a Lua table: unused keys ignored
    with pytest.raises(TypeError):
        sock.receiveuntil(None)
    reader = sock.receiveuntil(5)  # numbers are patterns as Lua's tostring prints them
    with pytest.raises(TypeError):
        reader("x")


def test_other_reads_take_a_pending_match_in_stream_order(stream):
    # upstream's t/066 "ambiguous boundary patterns (--abc), mixed by other reading calls"
    sock = stream(b"------abd----abc\n")
    reader1 = sock.receiveuntil("--abc")
    reader2 = sock.receiveuntil("-ab")
    assert reader1(2) == (b"--", None, None)
    assert sock.receive(1) == (b"-", None, None)
    assert reader1(1) == (b"-", None, None)
    assert reader2(2) == (b"-", None, None)
    assert reader1() == (b"d--", None, None)
    assert reader1() == (None, "closed", b"\n")
    assert sock.close() == (1, None)


@pytest.mark.parametrize("chunks", [[b"ab1ab1\n"], [b"ab", 0.02, b"1a", 0.02, b"b1\n"]])
def test_a_pattern_ending_half_way_returns_the_partial_match_whole(stream, chunks):
    # upstream's t/066 "ambiguous boundary patterns (ab1ab2), ends half way"
    sock = stream(chunks=chunks)
    reader = sock.receiveuntil("ab1ab2")
    assert reader(2) == (b"ab1", None, None)
    assert sock.receive(3) == (b"ab1", None, None)
    assert sock.close() == (1, None)
