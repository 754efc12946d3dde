"""Channels on the embedded broker: a real server with two workers, real WebSocket clients."""
import time

from tests.channels.conftest import broker_pid, clients_on_every_worker, http_get, http_json, worker_pids
from tests.channels.wsclient import Client


def test_a_message_reaches_every_attached_client_on_both_workers_once(chan_server):
    srv = chan_server()
    workers = worker_pids(srv)
    clients = clients_on_every_worker(srv.port, "/room?ch=room", workers, per_worker=3)
    assert http_get(srv.port, "/pub?ch=room&data=hi") == "ok\n"
    for c in clients:
        assert c.recv_text() == "hi"
    # exactly once: the next frame each client gets is the next message, not a second "hi"
    assert http_get(srv.port, "/pub?ch=room&data=second") == "ok\n"
    for c in clients:
        assert c.recv_text() == "second"
        c.close()


def test_each_senders_order_is_kept_and_every_client_gets_every_message_once(chan_server):
    srv = chan_server()
    workers = worker_pids(srv)
    a, b, c, d = clients_on_every_worker(srv.port, "/room?ch=order", workers, per_worker=2)
    n = 60
    for i in range(n):  # two senders on different workers, interleaved
        a.send_text("a%d" % i)
        d.send_text("d%d" % i)
    for client in (a, b, c, d):
        got = [client.recv_text() for _ in range(2 * n)]
        assert sorted(got) == sorted(["a%d" % i for i in range(n)] + ["d%d" % i for i in range(n)])
        assert [m for m in got if m[0] == "a"] == ["a%d" % i for i in range(n)]
        assert [m for m in got if m[0] == "d"] == ["d%d" % i for i in range(n)]
        client.close()


def test_subscribe_receives_what_the_other_worker_publishes(chan_server):
    import http.client
    import json

    srv = chan_server()
    workers = worker_pids(srv)
    for _ in range(10):  # a subscriber on each worker in turn (the publisher lands where it lands)
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("GET", "/sub?ch=subs&n=3&timeout=5000&ready=1")
        resp = conn.getresponse()
        assert resp.readline() == b"subscribed\n"
        for data in ("one", "two"):
            assert http_get(srv.port, "/pub?ch=subs&data=" + data) == "ok\n"
        assert http_get(srv.port, "/pub?ch=subs&data=three&binary=1") == "ok\n"
        out = json.loads(resp.read())
        conn.close()
        assert out["messages"] == ["one", "two", "bytes:three"]
        assert out["offsets"] == sorted(out["offsets"]) and len(set(out["offsets"])) == 3
        assert out["after_unsubscribe"] == "closed"
        assert out["err"] is None
    assert len(workers) == 2


def test_receive_times_out_with_the_cosocket_error(chan_server):
    srv = chan_server()
    out = http_json(srv.port, "/sub?ch=quiet&n=1&timeout=200")
    assert out["messages"] == [] and out["err"] == "timeout"


def test_history_replays_what_came_after_the_offset_and_reports_a_gap_or_a_new_epoch(chan_server):
    srv = chan_server("channels embedded;\n    channels_history 4;")
    for i in range(3):
        assert http_get(srv.port, "/pub?ch=hist&data=m%d" % i) == "ok\n"
    first = http_json(srv.port, "/sub?ch=hist&since=0&n=3&timeout=1000")
    assert first["messages"] == ["m0", "m1", "m2"] and first["recovered"] is True
    offsets, epoch = first["offsets"], first["epoch"]
    # an attached WebSocket reconnecting with the offset of m0 gets m1 and m2 before "ready"
    c = Client(srv.port, "/room?ch=hist&since=%d&epoch=%s" % (offsets[0], epoch))
    assert c.early == ["m1", "m2"]
    assert http_get(srv.port, "/pub?ch=hist&data=m3") == "ok\n"
    assert c.recv_text() == "m3"
    c.close()
    # three more: m0, m1 and m2 leave the 4-message history
    for i in range(4, 7):
        assert http_get(srv.port, "/pub?ch=hist&data=m%d" % i) == "ok\n"
    covered = http_json(srv.port, "/sub?ch=hist&since=%d&n=4&timeout=500" % offsets[2])
    assert covered["recovered"] is True and covered["messages"] == ["m3", "m4", "m5", "m6"]
    gone = http_json(srv.port, "/sub?ch=hist&since=%d&n=1&timeout=200" % offsets[1])
    assert gone["recovered"] is False
    assert gone["gap"] == "history no longer covers offset %d" % offsets[1]
    assert gone["messages"] == []
    other = http_json(srv.port, "/sub?ch=hist&since=%d&epoch=0-0&n=1&timeout=200" % offsets[2])
    assert other["recovered"] is False and other["gap"] == "new epoch"


def test_history_keeps_no_message_older_than_its_time_limit(chan_server):
    srv = chan_server("channels embedded;\n    channels_history 10 1s;")
    assert http_get(srv.port, "/pub?ch=aged&data=old") == "ok\n"
    first = http_json(srv.port, "/sub?ch=aged&since=0&n=1&timeout=500")
    assert first["messages"] == ["old"]
    time.sleep(1.3)
    later = http_json(srv.port, "/sub?ch=aged&since=0&n=1&timeout=200")
    assert later["recovered"] is False and later["messages"] == []


def test_several_channels_on_one_connection_and_detach(chan_server):
    srv = chan_server()
    c = Client(srv.port, "/room?ch=one,two")
    assert http_get(srv.port, "/pub?ch=two&data=to-two") == "ok\n"
    assert http_get(srv.port, "/pub?ch=one&data=to-one") == "ok\n"
    assert c.recv_text() == "to-two"
    assert c.recv_text() == "to-one"
    c.send_text("!detach")
    assert c.recv_text() == "detached"
    assert http_get(srv.port, "/pub?ch=one&data=after") == "ok\n"
    c.send_text("!stats")  # the next frame is the answer: "after" was not written
    assert c.recv_text().startswith("stats ")
    c.close()


def _worker_stats(port: int, pid: int, tries: int = 200) -> dict:
    for _ in range(tries):
        out = http_json(port, "/stats")
        if out["pid"] == pid:
            return out
    raise AssertionError("no /stats answer from worker %d" % pid)


def test_a_closed_connection_leaves_its_channels_at_once(chan_server):
    srv = chan_server()
    c = Client(srv.port, "/room?ch=leave1,leave2")
    pid = c.pid
    before = _worker_stats(srv.port, pid)
    assert before["attachments"] >= 2 and before["connections"] >= 1
    c.close()
    deadline = time.monotonic() + 3
    while True:
        after = _worker_stats(srv.port, pid)
        if after["attachments"] == 0 and after["connections"] == 0 and after["channels"] == 0:
            break
        assert time.monotonic() < deadline, after
        time.sleep(0.05)


def test_bad_input_is_answered_with_clear_errors(chan_server):
    srv = chan_server()
    out = http_json(srv.port, "/bad")
    assert out["publish_int_name"] == "bad channel name: a string is expected, got int"
    assert out["publish_bad_name"].startswith("invalid channel name 'a b'")
    assert out["publish_empty_name"].startswith("invalid channel name ''")
    assert out["publish_bad_data"] == "bad message: str or bytes expected, got dict"
    assert out["publish_too_big"] == "message too big (70000 > 65536 bytes)"
    assert out["subscribe_bad_name"].startswith("invalid channel name")
    assert out["subscribe_bad_overflow"] == "bad overflow policy 'never': \"drop_oldest\" or \"close\" expected"
    assert out["subscribe_bad_since"] == "bad since: a non-negative offset is expected"
    assert out["attach_not_ws"] == "bad websocket"
    assert out["unsubscribe_twice"] == "not subscribed"


def test_without_the_directive_channels_say_they_are_not_configured(start_server):
    from tests.channels.conftest import LOCATIONS, APPS
    from tests.support.serverproc import nginx_conf
    srv = start_server(nginx_conf("    server {\n        listen 127.0.0.1:{port};\n%s    }\n" % LOCATIONS, APPS, 1))
    assert http_get(srv.port, "/pub?ch=x&data=y").startswith("error channels are not configured")
    assert len(srv.workers()) == 1  # no broker process


def test_attached_connections_over_tls_receive_too(start_server, tls_files):
    from tests.channels.conftest import APPS, LOCATIONS
    from tests.support.serverproc import nginx_conf
    body = ("    channels embedded;\n    server {\n        listen 127.0.0.1:{port} ssl;\n"
            "        ssl_certificate %s/server.pem;\n        ssl_certificate_key %s/server.key;\n%s    }\n"
            % (tls_files, tls_files, LOCATIONS))
    srv = start_server(nginx_conf(body, APPS, 2))
    slow = Client(srv.port, "/room?ch=tls&queue=65536", tls=True, rcvbuf=4096)
    # the readers' queues hold the whole burst: only the one that does not read may drop
    clients = [Client(srv.port, "/room?ch=tls&queue=16777216", tls=True) for _ in range(3)]
    # a sender of its own: one thread per TLS socket here (the ssl module shares no socket between threads)
    sender = Client(srv.port, "/room?ch=tls&queue=65536", tls=True)
    sender.send_text("over tls")
    for c in clients + [slow]:
        assert c.recv_text() == "over tls"
    import threading
    n = 800
    results = {}

    def read(k):
        results[k] = [clients[k].recv_text().rstrip(".") for _ in range(n)]
    readers = [threading.Thread(target=read, args=(k,), daemon=True) for k in range(3)]
    for t in readers:
        t.start()
    for i in range(n):  # 6.4 MB to a reader that does not read: its queue drops, the others get all
        sender.send_text(("t%d" % i).ljust(8000, "."))
    for t in readers:
        t.join(30)
    for k in range(3):
        assert results.get(k) == ["t%d" % i for i in range(n)]
    slow.send_text("!stats")
    got = slow.texts_until(lambda t: t.startswith("stats "), timeout=20)
    import json
    dropped = json.loads(got[-1][6:])[0]["dropped"]
    numbers = [int(t.rstrip(".")[1:]) for t in got[:-1]]
    assert numbers == sorted(numbers) and dropped > 0 and len(numbers) + dropped == n
    for c in clients + [slow, sender]:
        c.close()


def test_a_plain_gevent_program_publishes_through_a_running_servers_broker(chan_server):
    import subprocess
    import sys

    from tests.support.serverproc import ROOT
    srv = chan_server()
    c = Client(srv.port, "/room?ch=outside")
    prog = ("from websocket import channels\n"
            "print(channels.configure('unix:%s'))\n"
            "print(channels.publish('outside', 'from a script'))\n" % (srv.prefix / "logs" / "channels.sock"))
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=30, cwd=str(ROOT))
    assert res.stdout.splitlines() == ["(1, None)", "(1, None)"], res.stderr
    assert c.recv_text() == "from a script"
    c.close()


def test_a_message_is_compressed_once_for_every_connection_without_context_takeover(chan_server):
    import zlib
    srv = chan_server()
    offer = "permessage-deflate; server_no_context_takeover"
    zipped = [Client(srv.port, "/room?ch=zip&deflate=1", extensions=offer) for _ in range(3)]
    for c in zipped:
        assert "permessage-deflate" in c.head and "server_no_context_takeover" in c.head
    plain = Client(srv.port, "/room?ch=zip&deflate=1")
    text = "compress me once " * 64
    assert http_get(srv.port, "/pub?ch=zip&data=" + text.replace(" ", "+")) == "ok\n"
    frames = []
    for c in zipped:
        op, payload = c.recv_frame()
        assert op == 1 and c.rsv1
        assert zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff").decode() == text
        frames.append(payload)
    assert len(frames[0]) < len(text) // 4 and frames[0] == frames[1] == frames[2]
    assert plain.recv_text() == text and not plain.rsv1
    for c in zipped + [plain]:
        c.close()
