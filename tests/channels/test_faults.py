"""Channels under faults and load: reload, a killed worker, a killed broker, slow subscribers."""
import os
import signal
import time

from tests.channels.conftest import broker_pid, clients_on_every_worker, http_get, http_json, worker_pids
from tests.channels.wsclient import Client


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_after_a_reload_new_workers_subscribers_receive_and_old_workers_keep_delivering(chan_server):
    srv = chan_server()
    old_workers = worker_pids(srv)
    bpid = broker_pid(srv)
    old = clients_on_every_worker(srv.port, "/room?ch=reload", old_workers)
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:  # the new generation: two workers that are not the old ones
        new_workers = [p for p in srv.workers() if p != bpid and p not in old_workers]
        if len(new_workers) == 2:
            break
        assert time.monotonic() < deadline, srv.error_log()
        time.sleep(0.05)
    new = clients_on_every_worker(srv.port, "/room?ch=reload", new_workers)
    assert all(_alive(p) for p in old_workers)  # they still hold the old connections
    assert broker_pid(srv) == bpid and _alive(bpid)  # the broker was kept
    assert http_get(srv.port, "/pub?ch=reload&data=after-reload") == "ok\n"
    for c in old + new:
        assert c.recv_text() == "after-reload"
    # an old client still publishes to everyone
    old[0].send_text("from-old")
    for c in old + new:
        assert c.recv_text() == "from-old"
        c.close()


def test_a_worker_killed_with_sigkill_loses_only_its_own_subscribers(chan_server):
    srv = chan_server()
    workers = worker_pids(srv)
    doomed, survivor = clients_on_every_worker(srv.port, "/room?ch=kill", workers, per_worker=2)[::2]
    others = [c for c in clients_on_every_worker(srv.port, "/room?ch=kill", [survivor.pid], per_worker=2)]
    os.kill(doomed.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _alive(doomed.pid):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for i in range(5):
        assert http_get(srv.port, "/pub?ch=kill&data=k%d" % i) == "ok\n"
    for c in [survivor] + others:
        assert [c.recv_text() for _ in range(5)] == ["k%d" % i for i in range(5)]
        c.close()
    doomed.close()


def test_a_killed_broker_is_started_again_with_a_new_epoch(chan_server):
    srv = chan_server("channels embedded;\n    channels_history 10;")
    workers = worker_pids(srv)
    assert http_get(srv.port, "/pub?ch=epoch&data=before") == "ok\n"
    first = http_json(srv.port, "/sub?ch=epoch&since=0&n=1&timeout=1000")
    assert first["messages"] == ["before"]
    clients = clients_on_every_worker(srv.port, "/room?ch=epoch", workers)
    bpid = broker_pid(srv)
    os.kill(bpid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while broker_pid(srv) == bpid:
        assert time.monotonic() < deadline, srv.error_log()
        time.sleep(0.05)
    assert "channels broker process %d exited on signal 9" % bpid in srv.error_log()
    # the workers connect again and subscribe again by themselves: wait until each has the new epoch
    deadline = time.monotonic() + 10
    for pid in workers:
        while True:
            out = http_json(srv.port, "/stats")
            if out["pid"] == pid and out["epoch"] not in (None, first["epoch"]):
                break
            assert time.monotonic() < deadline, out
    assert http_get(srv.port, "/pub?ch=epoch&data=after") == "ok\n"
    for c in clients:
        assert c.recv_text() == "after"
        c.close()
    later = http_json(srv.port, "/sub?ch=epoch&since=%d&epoch=%s&n=1&timeout=200"
                      % (first["offsets"][0], first["epoch"]))
    assert later["epoch"] != first["epoch"]
    assert later["recovered"] is False and later["gap"] == "new epoch"


def _burst(port: int, ch: str, n: int, size: int) -> None:
    assert http_get(port, "/pub?ch=%s&data=m&n=%d&size=%d" % (ch, n, size), timeout=30) == "ok\n"


def _reader(client, n: int):
    """A thread reading `n` text frames from `client` as they come: join() it, then .got."""
    import threading

    def run():
        t.got = [client.recv_text().rstrip(".") for _ in range(n)]
    t = threading.Thread(target=run, daemon=True)
    t.got = None
    t.start()
    return t


def test_a_slow_subscriber_drops_its_oldest_messages_and_counts_them(chan_server):
    srv = chan_server()
    n, size = 800, 8192  # 6.5 MB: more than the kernel buffers of one connection hold
    slow = Client(srv.port, "/room?ch=slow&queue=65536", rcvbuf=4096)
    fast = Client(srv.port, "/room?ch=slow&queue=16777216")  # holds the whole burst
    reader = _reader(fast, n)
    started = time.monotonic()
    _burst(srv.port, "slow", n, size)
    burst_time = time.monotonic() - started
    # the fast subscriber got everything in order while the slow one read nothing
    reader.join(30)
    assert reader.got == ["m%d" % i for i in range(n)]
    got = slow.texts_until(lambda t: t.rstrip(".") == "m%d" % (n - 1), timeout=30)
    numbers = [int(t.rstrip(".")[1:]) for t in got]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    slow.send_text("!stats")
    stats = slow.texts_until(lambda t: t.startswith("stats "))[-1]
    import json
    dropped = json.loads(stats[6:])[0]["dropped"]
    assert dropped > 0
    assert len(numbers) + dropped == n
    assert burst_time < 30  # bounded: the publisher never waited for the slow reader
    slow.close()
    fast.close()


def test_a_slow_subscriber_with_the_close_policy_is_closed_with_its_code(chan_server):
    srv = chan_server()
    slow = Client(srv.port, "/room?ch=slowclose&queue=65536&overflow=close&close_code=1008", rcvbuf=4096)
    fast = Client(srv.port, "/room?ch=slowclose&queue=16777216")
    reader = _reader(fast, 800)
    _burst(srv.port, "slowclose", 800, 8192)
    reader.join(30)
    assert reader.got == ["m%d" % i for i in range(800)]
    frames = []
    while True:
        op, payload = slow.recv_frame()
        frames.append((op, payload))
        if op == 8:
            break
    assert int.from_bytes(payload[:2], "big") == 1008
    numbers = [int(p.decode().rstrip(".")[1:]) for op, p in frames[:-1]]
    assert numbers == list(range(len(numbers)))  # no hole before the close
    assert len(numbers) < 800
    slow.sock.settimeout(5)
    try:
        rest = slow.sock.recv(65536)
    except ConnectionResetError:
        rest = b""
    assert rest == b""  # then the connection ends
    slow.close()
    fast.close()
