"""The process model: signals, reload, respawn, worker_connections, init hooks."""
import os
import re
import signal
import socket
import threading
import time

import pytest

from tests.server.conftest import conf
from tests.support.rawhttp import Conn, get

SERVER = """
    keepalive_timeout 10s;
    server {
        listen 127.0.0.1:{port};
        server_name localhost;
        location = /v { return 200 "%s"; }
        location = /pid { content_by_python srvapp:pid; }
        location = /slow { content_by_python srvapp:slow; }
        location = /worker { content_by_python srvapp:worker_info; }
        location = /init { content_by_python srvapp:init_worker_value; }
        location = /log { content_by_python srvapp:log_line; }
        location = /hook { content_by_python srvapp:exiting_hook; }
    }
"""


def wait_for(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %.1fs" % timeout)


def worker_pids(srv):
    """Pids of the master's live (non-zombie) children."""
    return srv.workers()


@pytest.mark.parametrize("sig,name,num", [(signal.SIGTERM, "SIGTERM", 15), (signal.SIGINT, "SIGINT", 2)])
def test_term_and_int_stop_at_once(start_server, tmp_path, sig, name, num):
    srv = start_server(conf(SERVER % "one", workers=2))
    assert get(srv.port, "/v").body == b"one"
    assert (tmp_path / "logs" / "nginx.pid").read_text().strip() == str(srv.proc.pid)
    idle = Conn(srv.port)
    assert idle.request("GET", "/v").status == 200
    t0 = time.monotonic()
    assert srv.stop(sig) == 0
    assert time.monotonic() - t0 < 3
    log = srv.error_log()
    assert re.search(r"\[notice\] %d#%d: signal %d \(%s\) received from %d, exiting"
                     % (srv.proc.pid, srv.proc.pid, num, name, os.getpid()), log)
    assert log.count("[notice]") and re.search(r"\[notice\] \d+#\d+: exiting", log)
    assert log.rstrip().endswith("exit")
    assert not (tmp_path / "logs" / "nginx.pid").exists()
    assert idle.is_closed()


def test_quit_lets_active_requests_finish_and_closes_idle_ones(start_server):
    srv = start_server(conf(SERVER % "one"))
    idle = Conn(srv.port)
    assert idle.request("GET", "/v").status == 200
    busy = Conn(srv.port)
    busy.send(b"GET /slow?t=0.4 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    srv.signal(signal.SIGQUIT)
    assert idle.is_closed(timeout=1.0)  # idle keep-alive connections are closed at once
    r = busy.read_response()
    assert r.body == b"slow done\n" and r.header("Connection") == "close"
    assert srv.proc.wait(5) == 0
    log = srv.error_log()
    assert "signal 3 (SIGQUIT) received from %d, shutting down" % os.getpid() in log
    assert "gracefully shutting down" in log
    assert re.search(r"worker process \d+ exited with code 0", log)


def test_worker_shutdown_timeout_bounds_the_drain(start_server):
    srv = start_server(conf(SERVER % "one", main="worker_shutdown_timeout 200ms;"))
    busy = Conn(srv.port)
    busy.send(b"GET /slow?t=5 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    t0 = time.monotonic()
    srv.signal(signal.SIGQUIT)
    assert srv.proc.wait(5) == 0
    assert time.monotonic() - t0 < 2
    assert busy.is_closed()


def test_hup_reloads_without_refusing_connections(start_server, tmp_path):
    srv = start_server(conf(SERVER % "one", workers=2))
    assert get(srv.port, "/v").body == b"one"
    old_pids = worker_pids(srv)
    idle = Conn(srv.port)
    assert idle.request("GET", "/v").body == b"one"
    failures, bodies, stop = [], set(), threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                bodies.add(get(srv.port, "/v").body)
            except OSError as exc:
                failures.append(exc)

    t = threading.Thread(target=hammer)
    t.start()
    try:
        time.sleep(0.1)
        srv.conf_path.write_text(srv.conf_path.read_text().replace('"one"', '"two"'))
        srv.signal(signal.SIGHUP)
        wait_for(lambda: b"two" in bodies)
        time.sleep(0.2)
    finally:
        stop.set()
        t.join()
    assert failures == []
    assert get(srv.port, "/v").body == b"two"
    assert idle.is_closed(timeout=2.0)  # the old worker closed its idle connection and left
    wait_for(lambda: not set(old_pids) & set(worker_pids(srv)))
    assert len(worker_pids(srv)) == 2
    log = srv.error_log()
    assert "signal 1 (SIGHUP) received from %d, reconfiguring" % os.getpid() in log
    assert "[notice] %d#%d: reconfiguring" % (srv.proc.pid, srv.proc.pid) in log
    assert len(re.findall(r"start worker process \d+", log)) == 4


def test_hup_with_a_bad_conf_keeps_the_old_workers(start_server):
    srv = start_server(conf(SERVER % "one"))
    pids = worker_pids(srv)
    srv.conf_path.write_text(srv.conf_path.read_text() + "\nbogus_directive on;\n")
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "[emerg]" in srv.error_log())
    assert 'unknown directive "bogus_directive" in %s' % srv.conf_path in srv.error_log()
    assert get(srv.port, "/v").body == b"one"
    assert worker_pids(srv) == pids


def test_usr1_reopens_rotated_logs(start_server, tmp_path):
    srv = start_server(conf(SERVER % "one"))
    assert get(srv.port, "/v").status == 200
    logs = tmp_path / "logs"
    wait_for(lambda: (logs / "access.log").exists() and (logs / "access.log").read_text())
    os.rename(logs / "access.log", logs / "access.log.1")
    os.rename(logs / "error.log", logs / "error.log.1")
    srv.signal(signal.SIGUSR1)
    # master and worker each say "reopening logs" in the file they are letting go
    wait_for(lambda: (logs / "error.log.1").read_text().count("reopening logs") >= 3)
    assert "signal 10 (SIGUSR1) received from %d, reopening logs" % os.getpid() in (logs / "error.log.1").read_text()
    assert get(srv.port, "/log?after").status == 200
    wait_for(lambda: (logs / "access.log").exists() and "/log?after" in (logs / "access.log").read_text())
    wait_for(lambda: (logs / "error.log").exists() and "custom warning 42" in (logs / "error.log").read_text())
    assert "/log?after" not in (logs / "access.log.1").read_text()
    assert "custom warning" not in (logs / "error.log.1").read_text()


def test_killed_worker_is_replaced_while_other_connections_stay_up(start_server):
    srv = start_server(conf(SERVER % "one", workers=2))
    conns = {}
    deadline = time.monotonic() + 5
    while len(conns) < 2 and time.monotonic() < deadline:  # one keep-alive connection on each worker
        c = Conn(srv.port)
        pid = int(c.request("GET", "/pid").body)
        if pid in conns:
            c.close()
        else:
            conns[pid] = c
    assert len(conns) == 2
    victim, survivor = sorted(conns)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: "worker process %d exited on signal 9" % victim in srv.error_log())
    assert "[alert]" in srv.error_log()
    for _ in range(3):
        assert int(conns[survivor].request("GET", "/pid").body) == survivor
    assert conns[victim].is_closed()
    wait_for(lambda: len(worker_pids(srv)) == 2 and victim not in worker_pids(srv))
    assert len(re.findall(r"start worker process \d+", srv.error_log())) == 3
    assert get(srv.port, "/v").body == b"one"


def test_worker_id_count_and_init_worker(start_server):
    body = (SERVER % "one").replace("keepalive_timeout 10s;", "")
    srv = start_server(conf(body, workers=2, main="init_worker_by_python srvapp:init_worker;"))
    seen = set()
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(get(srv.port, "/worker").body)
    assert seen == {b"0 2\n", b"1 2\n"}
    assert get(srv.port, "/init").body in (b"init_worker=0\n", b"init_worker=1\n")  # say flattens lists


def test_worker_connections_limit(start_server):
    srv = start_server(conf(SERVER % "one").replace("worker_connections 64;", "worker_connections 2;"))
    time.sleep(0.2)  # the readiness probe's connection is gone
    a, b = Conn(srv.port), Conn(srv.port)
    assert a.request("GET", "/v").status == 200 and b.request("GET", "/v").status == 200
    c = Conn(srv.port)
    assert c.is_closed()
    assert "2 worker_connections are not enough" in srv.error_log()
    a.close()
    time.sleep(0.1)
    assert Conn(srv.port).request("GET", "/v").status == 200


def test_bind_failure_is_an_emerg(tmp_path):
    from tests.support.serverproc import ServerProcess
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        srv = ServerProcess(tmp_path, conf(SERVER % "one"), port=port, wait=False)
        srv.start()
        assert srv.proc.wait(10) == 1
        out = srv.output()
        assert "[emerg] bind() to 127.0.0.1:%d failed (98: Address already in use)" % port in out


def test_on_exiting_hooks_run_on_graceful_exit(start_server):
    srv = start_server(conf(SERVER % "one"))
    assert get(srv.port, "/hook").body == b"registered\n"
    srv.signal(signal.SIGQUIT)
    assert srv.proc.wait(5) == 0
    assert "hook saw exiting=true" in srv.error_log()


def test_daemon_mode_detaches_and_stops_with_s_quit(tmp_path):
    import subprocess
    import sys
    from tests.support.serverproc import ROOT, ServerProcess, wait_port
    srv = ServerProcess(tmp_path, conf(SERVER % "one"), wait=False)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    assert subprocess.run(srv.command(), env=env, cwd=str(tmp_path), timeout=10).returncode == 0
    wait_port(srv.port)
    pid = int((tmp_path / "logs" / "nginx.pid").read_text())
    assert get(srv.port, "/v").body == b"one"
    assert os.getsid(pid) == pid  # a session leader, detached from ours
    subprocess.run(srv.command("-s", "quit"), env=env, cwd=str(tmp_path), timeout=10, check=True)
    wait_for(lambda: not (tmp_path / "logs" / "nginx.pid").exists())
    with pytest.raises(OSError):
        get(srv.port, "/v")
