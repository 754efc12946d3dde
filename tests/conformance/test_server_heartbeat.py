"""Heartbeats of the real server (server.new's ping_interval and ping_timeout) seen from a raw client."""
import time

from .wire import RawWS, frame


def test_the_server_pings_an_idle_client_and_keeps_it_while_it_answers(ws_server):
    ws = RawWS(ws_server.port, "/strict?ping_interval=100&ping_timeout=400", timeout=3)
    for _ in range(3):
        fin, opcode, payload, masked = ws.read_frame()
        assert (fin, opcode, masked) == (True, 0x9, False)
        ws.send(frame(0xA, payload))  # the pong
    ws.send(frame(0x1, b"still here"))
    while True:
        fin, opcode, payload, _ = ws.read_frame()
        if opcode != 0x9:
            break
    assert (opcode, payload) == (0x1, b"still here")
    ws.close()


def test_a_silent_client_gets_1011_and_the_connection_ends(ws_server):
    ws = RawWS(ws_server.port, "/strict?ping_interval=100&ping_timeout=200", timeout=3)
    start = time.monotonic()
    assert ws.read_frame()[1] == 0x9
    assert ws.read_close() == (1011, b"ping timeout")
    assert time.monotonic() - start >= 0.25  # 100 ms of silence, then 200 ms without an answer
    assert ws.eof(2.0)
    deadline = time.monotonic() + 2
    while "recv_message: ping timeout" not in ws_server.error_log() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "recv_message: ping timeout" in ws_server.error_log()


def test_no_ping_without_the_options(ws_server):
    ws = RawWS(ws_server.port, "/strict", timeout=0.5)
    ws.sock.settimeout(0.5)
    try:
        ws.read_frame()
        got_frame = True
    except OSError:
        got_frame = False
    assert not got_frame
    ws.close()
