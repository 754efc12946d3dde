"""The shipped chat room: conf/nginx.conf as shipped (two workers, the embedded broker), clients on /chat."""
import re
import socket

from tests.channels.conftest import worker_pids
from tests.channels.wsclient import Client
from tests.support.serverproc import ROOT


def shipped_conf() -> str:
    """conf/nginx.conf on `{port}`, its handler scripts taken from the repository."""
    text = (ROOT / "conf" / "nginx.conf").read_text()
    text, n = re.subn(r"listen\s+127\.0\.0\.1:8080;", "listen 127.0.0.1:{port};", text)
    assert n == 1
    text = re.sub(r"(content_by_python_file\s+)conf/", r"\g<1>{root}/conf/", text)
    assert "worker_processes 2;" in text and "location = /chat" in text
    return text


def _all_joined(clients) -> None:
    """Until every client has received one of the first client's "sync" messages (each one's attach is done)."""
    waiting = set(range(len(clients)))
    for j in range(100):
        clients[0].send_text("sync-%d" % j)
        for k in list(waiting):
            clients[k].sock.settimeout(0.2)
            try:
                if clients[k].recv_text().startswith("sync-"):
                    waiting.discard(k)
            except socket.timeout:
                pass
            clients[k].sock.settimeout(10)
        if not waiting:
            return
    raise AssertionError("clients %s never joined the chat" % sorted(waiting))


def test_every_chat_message_reaches_every_client_once_in_each_senders_order(start_server):
    srv = start_server(shipped_conf())
    assert len(worker_pids(srv)) == 2
    clients = [Client(srv.port, "/chat", greeting=False) for _ in range(8)]
    _all_joined(clients)
    n = 30
    for i in range(n):
        for k, c in enumerate(clients[:3]):
            c.send_text("c%d-%d" % (k, i))
    for c in clients:
        got = []
        while len(got) < 3 * n:
            m = c.recv_text()
            if not m.startswith("sync-"):
                got.append(m)
        for k in range(3):
            assert [m for m in got if m.startswith("c%d-" % k)] == ["c%d-%d" % (k, i) for i in range(n)]
        c.sock.settimeout(0.3)  # and nothing more: each message came once
        try:
            extra = c.recv_text()
        except socket.timeout:
            extra = None
        assert extra is None
        c.close()


def test_chat_messages_come_back_unchanged(start_server):
    srv = start_server(shipped_conf())
    a, b = Client(srv.port, "/chat", greeting=False), Client(srv.port, "/chat", greeting=False)
    _all_joined([a, b])
    text = "h\u00e9llo \U0001F600 " + "x" * 300
    b.send_text(text)
    for c in (a, b):
        assert [m for m in c.texts_until(lambda t: not t.startswith("sync-"))][-1] == text
        c.close()
