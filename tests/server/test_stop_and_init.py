"""Process behaviour at the edges of a server's life, as nginx: a graceful stop closes the listening sockets
at once (reuseport ones too) while requests in flight finish; a failing init hook stops the start."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from tests.server.conftest import conf
from tests.support.rawhttp import Conn, get
from tests.support.serverproc import ROOT, ServerProcess

SERVER = """
    server {
        listen 127.0.0.1:{port}%s;
        location = /slow { content_by_python srvapp:slow; }
        location = /pid { content_by_python srvapp:pid; }
    }
"""


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            # a socket still listening in a process that does not accept: the connect succeeds, no answer comes
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(0.3)
            return s.recv(1) == b""
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    except socket.timeout:
        return False


@pytest.mark.parametrize("stop", ["SIGQUIT", "-s quit"])
@pytest.mark.parametrize("reuseport", [False, True], ids=["shared", "reuseport"])
def test_a_graceful_stop_refuses_new_connections_within_a_second_while_a_request_finishes(
        start_server, tmp_path, stop, reuseport):
    srv = start_server(conf(SERVER % (" reuseport" if reuseport else ""), workers=2))
    for _ in range(4):
        assert get(srv.port, "/pid").status == 200
    result = {}
    slow = Conn(srv.port, timeout=5)
    slow.send(b"GET /slow?t=1.5 HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = threading.Thread(target=lambda: result.setdefault("r", slow.read_response()))
    reader.start()
    time.sleep(0.2)  # the slow request is in its handler
    if stop == "SIGQUIT":
        srv.signal(signal.SIGQUIT)
    else:
        subprocess.run(srv.command("-s", "quit"), cwd=str(tmp_path), timeout=10, check=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    started = time.monotonic()
    while not all(_refused(srv.port) for _ in range(3)):
        assert time.monotonic() - started < 1.0, "a new connection was still accepted 1 s after the stop"
        time.sleep(0.05)
    reader.join(5)
    assert result["r"].status == 200 and result["r"].body == b"slow done\n"
    assert srv.proc.wait(10) == 0


def test_init_by_python_raising_stops_the_start_with_status_1(tmp_path):
    srv = ServerProcess(tmp_path, conf(SERVER % "", main="init_by_python srvapp:init_fails;"), wait=False)
    srv.start()
    assert srv.proc.wait(10) == 1
    assert "init_by_python error: " in srv.error_log() and "init failed on purpose" in srv.error_log()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=0.5).close()


def test_init_worker_by_python_failing_in_every_worker_stops_the_server_with_status_1(tmp_path):
    srv = ServerProcess(tmp_path, conf(SERVER % "", workers=2, main="init_worker_by_python srvapp:init_fails;"),
                        wait=False)
    srv.start()
    assert srv.proc.wait(10) == 1
    log = srv.error_log()
    assert log.count("init_worker_by_python error: ") == 2 and "init failed on purpose" in log
    assert "init_worker_by_python failed in every worker process" in log
