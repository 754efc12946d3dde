"""Channels on Redis: real redis-server processes, real servers with two workers each."""
import json
import subprocess
import sys
import time

import pytest

from tests.channels.conftest import channels_conf, clients_on_every_worker, http_get, http_json
from tests.channels.redisproc import RedisProc
from tests.channels.wsclient import Client
from tests.support.serverproc import ROOT, ServerProcess


@pytest.fixture
def redis_proc(tmp_path):
    made = []

    def make(**kw):
        r = RedisProc(tmp_path / ("redis%d" % len(made)), **kw).start()
        made.append(r)
        return r
    yield make
    for r in made:
        r.stop()


@pytest.fixture
def servers(tmp_path):
    """servers(directives, count) -> started ServerProcesses, each in its own prefix."""
    made = []

    def start(directives: str, count: int = 1):
        out = []
        for _ in range(count):
            srv = ServerProcess(tmp_path / ("srv%d" % len(made)), channels_conf(directives)).start()
            made.append(srv)
            out.append(srv)
        return out
    yield start
    for srv in made:
        srv.stop()


def _workers(srv) -> list:
    srv.wait_workers(2)
    return srv.workers()  # no broker process with the Redis backend


def _ready(srv, timeout: float = 10.0) -> None:
    """Until a publish through `srv` succeeds (its worker reached Redis)."""
    deadline = time.monotonic() + timeout
    while True:
        out = http_get(srv.port, "/pub?ch=warmup&data=x")
        if out == "ok\n":
            return
        assert time.monotonic() < deadline, out
        time.sleep(0.05)


def test_two_servers_sharing_redis_deliver_to_every_client_once_in_order(redis_proc, servers):
    r = redis_proc()
    a, b = servers("channels %s;\n    channels_history 100;" % r.url(), 2)
    clients = []
    for srv in (a, b):
        assert len(_workers(srv)) == 2
        clients += clients_on_every_worker(srv.port, "/room?ch=x", _workers(srv))
    for i in range(20):
        clients[i % 2].send_text("from-a-%d" % i)  # server a's two workers publish
        clients[2 + i % 2].send_text("from-b-%d" % i)  # and server b's
    for c in clients:
        got = [c.recv_text() for _ in range(40)]
        for prefix in ("from-a-", "from-b-"):
            mine = [m for m in got if m.startswith(prefix)]
            assert sorted(mine, key=lambda m: int(m.rsplit("-", 1)[1])) == [prefix + str(i) for i in range(20)]
        for sender in range(4):  # each sender's own order
            prefix, parity = ("from-a-", sender) if sender < 2 else ("from-b-", sender - 2)
            seq = [int(m.rsplit("-", 1)[1]) for m in got if m.startswith(prefix)
                   and int(m.rsplit("-", 1)[1]) % 2 == parity]
            assert seq == sorted(seq)
        c.close()


def test_sharded_pubsub_delivers_across_workers(redis_proc, servers):
    r = redis_proc()
    (srv,) = servers("channels %s;\n    channels_sharded on;" % r.url())
    clients = clients_on_every_worker(srv.port, "/room?ch=sh", _workers(srv))
    assert http_get(srv.port, "/pub?ch=sh&data=sharded") == "ok\n"
    for c in clients:
        assert c.recv_text() == "sharded"
        c.close()
    info = subprocess.run(["redis-cli", "-p", str(r.port), "INFO", "commandstats"], capture_output=True,
                          text=True).stdout
    assert "cmdstat_ssubscribe" in info and "cmdstat_spublish" in info


def test_a_redis_restart_recovers_from_history_and_publishing_meanwhile_fails(redis_proc, servers):
    r = redis_proc(persistent=True)
    a, b = servers("channels %s;\n    channels_history 100;" % r.url(), 2)
    _ready(a)
    _ready(b)
    clients = clients_on_every_worker(a.port, "/room?ch=rr", _workers(a)) + \
        clients_on_every_worker(b.port, "/room?ch=rr", _workers(b))
    assert http_get(a.port, "/pub?ch=rr&data=before") == "ok\n"
    for c in clients:
        assert c.recv_text() == "before"
    r.stop()
    out = http_get(a.port, "/pub?ch=rr&data=lost")
    assert out.startswith("error redis"), out  # an error, not a silent loss
    r.start()
    # published as soon as one server reaches Redis again: the other server's subscribers may not be
    # subscribed yet and get these from the stream
    deadline = time.monotonic() + 15
    sent = 0
    while sent < 3:
        out = http_get(b.port, "/pub?ch=rr&data=after%d" % sent)
        if out == "ok\n":
            sent += 1
        else:
            assert time.monotonic() < deadline, out
            time.sleep(0.02)
    for c in clients:
        assert [c.recv_text() for _ in range(3)] == ["after0", "after1", "after2"]
        c.send_text("!stats")
        stats = json.loads(c.texts_until(lambda t: t.startswith("stats "))[-1][6:])
        assert stats[0]["gap"] is None  # recovered: no gap reported
        c.close()


def test_a_redis_that_lost_its_data_is_a_new_epoch(redis_proc, servers):
    r = redis_proc(persistent=False)
    (srv,) = servers("channels %s;\n    channels_history 100;" % r.url())
    _ready(srv)
    c = Client(srv.port, "/room?ch=ep")
    c.send_text("!stats")
    first = json.loads(c.texts_until(lambda t: t.startswith("stats "))[-1][6:])[0]
    r.stop()
    r.start()
    deadline = time.monotonic() + 15
    while True:
        c.send_text("!stats")
        now = json.loads(c.texts_until(lambda t: t.startswith("stats "))[-1][6:])[0]
        if now["epoch"] != first["epoch"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert now["recovered"] is False and now["gap"] == "new epoch"
    c.close()


def test_password_and_database_and_a_wrong_password(redis_proc, servers):
    r = redis_proc(password="s3cret")
    (srv,) = servers("channels %s;" % r.url(db=4))
    _ready(srv)
    clients = clients_on_every_worker(srv.port, "/room?ch=pw", _workers(srv))
    assert http_get(srv.port, "/pub?ch=pw&data=authed") == "ok\n"
    for c in clients:
        assert c.recv_text() == "authed"
        c.close()
    keys = subprocess.run(["redis-cli", "-p", str(r.port), "-a", "s3cret", "--no-auth-warning", "-n", "4",
                           "KEYS", "channels:*"], capture_output=True, text=True).stdout
    assert "channels:{pw}:h" in keys
    out = _plain_program("""
ok, err = channels.configure("redis://:wrong@127.0.0.1:%d/4", timeout=2000)
print(channels.publish("pw", "x"))
""" % r.port)
    assert "redis auth failed: WRONGPASS" in out


def test_tls_rediss(redis_proc, tls_files, servers):
    r = redis_proc(tls_files=tls_files)
    out = _plain_program("""
ok, err = channels.configure("rediss://127.0.0.1:%d/1", timeout=3000)
sub, err = channels.subscribe("tls", timeout=3000)
print(err)
print(channels.publish("tls", "over tls"))
print(sub.receive())
""" % r.tls_port)
    assert out.splitlines() == ["None", "(1, None)", "('over tls', None)"]


def _plain_program(code: str) -> str:
    """Run `code` in a plain gevent program (no server) with `channels` imported; its stdout."""
    prog = "from gevent import monkey\nfrom websocket import channels\n" + code
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert res.returncode == 0, res.stderr
    return res.stdout


def _fake_redis(behaviour: str):
    """A TCP listener on 127.0.0.1 that answers every connection with garbage, or says nothing."""
    import socket
    import threading
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)
    conns = []

    def serve():
        while True:
            try:
                conn, _ = lst.accept()
            except OSError:
                return
            conns.append(conn)
            if behaviour == "garbage":
                try:
                    conn.recv(65536)
                    conn.sendall(b"%this is not RESP\r\n")
                except OSError:
                    pass
    threading.Thread(target=serve, daemon=True).start()
    return lst, conns


@pytest.mark.parametrize("behaviour, expected", [
    ("garbage", "redis: unknown prefix"),
    ("silent", "redis: timeout"),
])
def test_a_redis_that_answers_garbage_or_nothing_gives_an_error(behaviour, expected):
    lst, conns = _fake_redis(behaviour)
    try:
        out = _plain_program("""
ok, err = channels.configure("redis://127.0.0.1:%d/0", timeout=500)
print(channels.publish("room", "x"))
print(channels.subscribe("room"))
""" % lst.getsockname()[1])
    finally:
        lst.close()
        for c in conns:
            c.close()
    lines = out.splitlines()
    assert lines[0].startswith("(None, '%s" % expected), out
    assert lines[1].startswith("(None, 'redis unavailable"), out


def test_a_bad_redis_url_is_refused():
    out = _plain_program("""
print(channels.configure("redis://127.0.0.1:notaport/0"))
print(channels.configure("redis://127.0.0.1:6379/x"))
print(channels.configure("memcached://127.0.0.1"))
""")
    assert out.splitlines() == ["(None, 'bad redis URL: bad port in redis://127.0.0.1:notaport/0')",
                                "(None, \"bad redis URL: bad database number 'x' in redis://127.0.0.1:6379/x\")",
                                "(None, 'unsupported channels backend: memcached://127.0.0.1')"]
