"""Graceful stop (SIGQUIT) tells open WebSockets "going away" (1001); bad keys are refused before any upgrade."""
import signal
import socket
import time

import pytest

from tests.conformance.wire import RawWS, close_body, frame
from tests.support.serverproc import ServerProcess

CONF = """
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
worker_shutdown_timeout 3s;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:{port};
        location = /echo { content_by_python_file {root}/conf/handlers/echo.py; }
    }
}
"""


def test_sigquit_sends_1001_to_every_open_websocket_and_exits(tmp_path):
    srv = ServerProcess(tmp_path, CONF).start()
    try:
        conns = [RawWS(srv.port) for _ in range(4)]
        for i, ws in enumerate(conns):  # each connection is live before the stop
            ws.send(frame(0x1, b"hi %d" % i))
            assert ws.read_frame()[2] == b"hi %d" % i
        started = time.monotonic()
        srv.signal(signal.SIGQUIT)
        for ws in conns:
            code, reason = ws.read_close()
            assert code == 1001
            assert reason == b"server shutting down"
            ws.send(frame(0x8, close_body(1001)))  # the client answers the close
            assert ws.eof(2.0), "server kept TCP open after the closing handshake"
        assert srv.proc.wait(5) == 0
        assert time.monotonic() - started < 3.0  # well within worker_shutdown_timeout
    finally:
        srv.stop()


def test_sigquit_ends_within_worker_shutdown_timeout_when_client_never_answers(tmp_path):
    srv = ServerProcess(tmp_path, CONF.replace("3s", "500ms")).start()
    try:
        ws = RawWS(srv.port)
        started = time.monotonic()
        srv.signal(signal.SIGQUIT)
        assert ws.read_close()[0] == 1001  # and the client stays silent
        assert srv.proc.wait(5) == 0
        assert time.monotonic() - started < 2.5
    finally:
        srv.stop()


@pytest.mark.parametrize("key", ["", "abc", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x",
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "!!!!!!!!!!!!!!!!!!!!!!=="])
def test_bad_sec_websocket_key_gets_400_and_no_upgrade(tmp_path_factory, key, shared_server):
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=2) as s:
        s.sendall(("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
        head = s.recv(4096).split(b"\r\n", 1)[0]
    assert head == b"HTTP/1.1 400 Bad Request"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    with ServerProcess(tmp_path_factory.mktemp("keys"), CONF) as srv:
        yield srv
