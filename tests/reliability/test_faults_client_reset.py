"""A client that resets its connection is logged at info (nginx's level for downstream errors), never [error]."""
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
