"""PENDING (needs cosocket/tcp.py): rename to test_faults_pending.py once fixed.

nginx logs a failed recv()/send() on a client (downstream) connection at info: the connection's
log_error is NGX_ERROR_INFO, so "recv() failed (104: Connection reset by peer)" from a peer that resets
is not an [error].  Our cosocket logs it at [error] for the request socket too (ngx.req.socket(true),
the WebSocket server's socket); it should log at info when the socket is the downstream one
(`TCPSocket._downstream`), and keep [error] for upstream cosockets.
"""
import re
import time

from tests.reliability.test_faults import _reset, _serves, _wait_log, srv  # noqa: F401 (fixture)
from tests.reliability.conftest import worker_pids
from tests.reliability.wsraw import RawWS, frame


def test_a_client_reset_is_logged_at_info_not_error(srv):
    pids = worker_pids(srv)
    ws = RawWS(srv.port)
    ws.send(frame(0x1, b"x" * 1000)[:300])
    time.sleep(0.05)
    _reset(ws.sock)
    _wait_log(srv, r"ws_echo ended: failed to read masking-len and payload: connection reset by peer")
    log = srv.error_log()
    assert re.search(r"\[info\] .*recv\(\) failed \(104: Connection reset by peer\)", log), log
    assert "[error]" not in log
    _serves(srv, pids)
