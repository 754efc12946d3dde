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
