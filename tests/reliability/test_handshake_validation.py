"""Handshake validation through the real server: each bad upgrade gets its error and a 400, never a 101."""
import re

import pytest

from tests.reliability.conftest import conf
from tests.reliability.handshake_cases import BAD_KEYS, BAD_UPGRADES
from tests.reliability.wsraw import RawWS, upgrade_request
from tests.support.rawhttp import Conn

HTTP = """
    server {
        listen 127.0.0.1:{port};
        location = /ws { content_by_python relapp:ws_echo; }
        location = /echo { content_by_python_file {root}/conf/handlers/echo.py; }
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from tests.support.serverproc import ServerProcess
    server = ServerProcess(tmp_path_factory.mktemp("hs"), conf(HTTP)).start()
    yield server
    server.stop()


def _answer(port, request: bytes) -> bytes:
    """Everything the server sends before it closes the connection."""
    c = Conn(port, timeout=2)
    c.send(request)
    out = b""
    while True:
        data = c.sock.recv(65536)
        if not data:
            return out
        out += data


@pytest.mark.parametrize("name,request_bytes,err", BAD_UPGRADES, ids=[c[0] for c in BAD_UPGRADES])
def test_a_bad_upgrade_gets_its_error_and_a_400(srv, name, request_bytes, err):
    answer = _answer(srv.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") or answer.startswith(b"HTTP/1.0 400"), answer[:80]
    assert b"101" not in answer.split(b"\r\n", 1)[0]
    assert b"Sec-WebSocket-Accept" not in answer
    assert "failed to new websocket: %s" % err in srv.error_log()


@pytest.mark.parametrize("name,key", BAD_KEYS, ids=[c[0] for c in BAD_KEYS])
def test_a_key_that_is_not_base64_of_16_bytes_is_refused(srv, name, key):
    answer = _answer(srv.port, upgrade_request(key=key))
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
    assert 'failed to new websocket: bad "sec-websocket-key" request header: not base64 of 16 bytes' \
        in srv.error_log()


@pytest.mark.parametrize("name,request_bytes,err", BAD_UPGRADES, ids=[c[0] for c in BAD_UPGRADES])
def test_the_shipped_echo_answers_a_bad_upgrade_with_400(srv, name, request_bytes, err):
    answer = _answer(srv.port, request_bytes.replace(b"GET /ws ", b"GET /echo "))
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") or answer.startswith(b"HTTP/1.0 400"), answer[:80]
    assert b"Sec-WebSocket-Accept" not in answer
    assert re.search(r"\[error\] .*failed to new websocket: %s" % re.escape(err), srv.error_log())


def test_a_good_upgrade_after_bad_ones_is_served(srv):
    ws = RawWS(srv.port)
    ws.send_frame(0x1, b"fine")
    assert ws.recv_frame() == (0x1, b"fine")
