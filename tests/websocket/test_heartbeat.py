"""Heartbeats (ping_interval / ping_timeout on client.new and server.new) on real sockets."""
import time

import gevent
import pytest

from websocket import client, protocol, server
from websocket.message import ERR_PING_TIMEOUT

from .peer import Peer


def silent_session(conn, peer):
    """Read and record frames, answer nothing (a peer that stopped responding)."""
    while True:
        data, typ, err = protocol.recv_frame(conn, 1 << 20, True)
        peer.frames.append((data, typ, err))
        if data is None or typ == "close":
            return


def new(**kw):
    wb, err = client.new(**kw)
    assert err is None
    return wb


def test_an_idle_client_pings_and_gets_the_pong_back():
    p = Peer()  # answers pings with pongs
    try:
        wb = new(timeout=2000, ping_interval=100)
        assert wb.connect(p.url())[:2] == (1, None)
        start = time.monotonic()
        assert wb.recv_frame() == (b"", "pong", None)
        assert time.monotonic() - start >= 0.08
        assert p.frames[0][:2] == (b"", "ping")
        wb.close()
    finally:
        p.stop()


def test_recv_message_keeps_waiting_across_pings_and_returns_the_message():
    def session(conn, peer):
        for _ in range(3):  # answer three pings, then send a message
            data, typ, err = protocol.recv_frame(conn, 1 << 20, True)
            peer.frames.append((data, typ, err))
            protocol.send_frame(conn, True, protocol.OP_PONG, data, 125, False)
        protocol.send_frame(conn, True, protocol.OP_TEXT, b"late", 125, False)
        silent_session(conn, peer)

    p = Peer(session=session)
    try:
        wb = new(timeout=3000, ping_interval=50, ping_timeout=500)
        assert wb.connect(p.url())[:2] == (1, None)
        assert wb.recv_message() == ("late", "text", None)
        assert [typ for _, typ, _ in p.frames[:3]] == ["ping", "ping", "ping"]
        wb.close()
    finally:
        p.stop()


def test_a_silent_peer_is_closed_with_1011_and_the_pending_recv_fails():
    p = Peer(session=silent_session)
    try:
        wb = new(timeout=5000, ping_interval=100, ping_timeout=150)
        assert wb.connect(p.url())[:2] == (1, None)
        start = time.monotonic()
        assert wb.recv_frame() == (None, None, ERR_PING_TIMEOUT)
        assert 0.2 <= time.monotonic() - start < 4.0  # the ping after 100 ms, then 150 ms of silence; not the 5 s read timeout
        assert wb.recv_frame() == (None, None, "fatal error already happened")
        deadline = time.monotonic() + 2
        while len(p.frames) < 2 and time.monotonic() < deadline:
            gevent.sleep(0.01)
        assert p.frames[0][:2] == (b"", "ping")
        assert p.frames[1] == ("ping timeout", "close", 1011)
    finally:
        p.stop()


def test_the_read_timeout_still_bounds_a_receive_with_heartbeats():
    p = Peer(session=silent_session)
    try:
        wb = new(timeout=250, ping_interval=5000)
        assert wb.connect(p.url())[:2] == (1, None)
        assert wb.recv_frame() == (None, None, "failed to receive the first 2 bytes: timeout")
        assert p.frames == []  # the read timeout came first: no ping yet
        assert wb.send_text("still usable") == (len("still usable") + 6, None)
        wb.close()
    finally:
        p.stop()


def test_off_by_default_no_ping_is_sent():
    p = Peer(session=silent_session)
    try:
        wb = new(timeout=300)
        assert wb.connect(p.url())[:2] == (1, None)
        assert wb.recv_frame() == (None, None, "failed to receive the first 2 bytes: timeout")
        assert p.frames == []
        wb.close()
    finally:
        p.stop()


@pytest.mark.parametrize("opts", [{"ping_interval": 0}, {"ping_interval": -5}, {"ping_timeout": 100},
                                  {"ping_interval": 100, "ping_timeout": 0}, {"ping_interval": "1s"}])
def test_bad_heartbeat_options(opts):
    with pytest.raises(TypeError):
        client.new(**opts)


def test_server_new_takes_the_same_options():
    assert "ping_interval" in server._NEW_OPTIONS and "ping_timeout" in server._NEW_OPTIONS
