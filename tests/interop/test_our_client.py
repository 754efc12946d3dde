"""Our client (websocket.client, in a gevent greenlet) with the servers people run:
the `websockets` library, aiohttp, Node.js `ws` and nginx running the original
lua-resty-websocket, over ws:// and wss:// (certificate verified).

The client uses the message API (recv_message).  On one connection it sends
every message of cases.CASES and checks the echo, pings and checks the pong
(pass_pings), then closes with 4001 "bye ✓" and checks that the peer's close
frame echoes code and reason (each peer echoes them).  On a second connection
the peer pings (recv_message answers it), then closes first, with 4002
"peer bye ✓".
"""
import gevent
import pytest

from websocket import client

from .cases import CASES, CLOSE_CODE, CLOSE_REASON, MAX_SIZE, PING_PAYLOAD, case_id, payload
from .conftest import (missing_nginx_lua, missing_node_ws, require, start_nginx_peer, start_node_peer,
                       start_python_peer)
from .peers.echo_rules import (CLOSE_ME, FRAGMENT_ME, FRAGMENTED_TEXT, PEER_CLOSE_CODE, PEER_CLOSE_REASON, PING_ME,
                               PONG_SEEN)

TIMEOUT_MS = 5000
GREENLET_TIMEOUT = 30


@pytest.fixture(scope="module")
def peers(tmp_path_factory, tls_files):
    """Peers started on first use and kept for the module: peers(kind, scheme) -> (url, process)."""
    started = {}
    log_dir = tmp_path_factory.mktemp("peers")

    def get(kind, scheme):
        tls = tls_files if scheme == "wss" else None
        key = (kind, scheme) if kind != "nginx-lua" else kind
        if key not in started:
            if kind == "websockets":
                started[key] = start_python_peer("websockets-" + scheme, "websockets_echo.py", log_dir, tls)
            elif kind == "aiohttp":
                started[key] = start_python_peer("aiohttp-" + scheme, "aiohttp_echo.py", log_dir, tls)
            elif kind == "node-ws":
                started[key] = start_node_peer(log_dir, tls)
            else:
                started[key] = start_nginx_peer(log_dir / "nginx", tls_files)
        peer = started[key]
        port = peer.ssl_port if kind == "nginx-lua" and scheme == "wss" else peer.port
        return "%s://127.0.0.1:%d/echo" % (scheme, port), peer

    yield get
    for peer in started.values():
        peer.stop()


def mismatch(case, data, typ, err):
    """A short description of how an echo differs from the case, or None."""
    sent = payload(case)
    if data is None:
        return "%s: no echo: %s" % (case_id(case), err)
    if typ != case["type"]:
        return "%s: came back as %s" % (case_id(case), typ)
    if data != sent:
        return "%s: came back different (%d units)" % (case_id(case), len(data))
    return None


def exchange(url, **connect_opts):
    """The whole exchange with a peer; returns a list of what went wrong (empty when all went right)."""
    problems = []
    wb, err = client.new(max_payload_len=MAX_SIZE, timeout=TIMEOUT_MS, pass_pings=True)
    ok, err, res = wb.connect(url, **connect_opts)
    if ok != 1:
        return ["connect: %s" % err]
    for case in CASES:
        data = payload(case)
        send = wb.send_text if case["type"] == "text" else wb.send_binary
        sent, err = send(data)
        if sent is None:
            return problems + ["%s: send: %s" % (case_id(case), err)]
        problem = mismatch(case, *wb.recv_message())
        if problem:
            problems.append(problem)
    wb.send_ping(PING_PAYLOAD)
    got = wb.recv_message()  # pass_pings: the pong comes back to us
    if got != (PING_PAYLOAD, "pong", None):
        problems.append("ping: got %r" % (got,))
    wb.send_close(CLOSE_CODE, CLOSE_REASON)
    got = wb.recv_message()
    if got != (CLOSE_REASON, "close", CLOSE_CODE):
        problems.append("client close: the peer answered %r" % (got,))
    wb.close()

    wb, err = client.new(max_payload_len=MAX_SIZE, timeout=TIMEOUT_MS)
    ok, err, res = wb.connect(url, **connect_opts)
    if ok != 1:
        return problems + ["second connect: %s" % err]
    wb.send_text(PING_ME)
    got = wb.recv_message()  # the peer's ping is answered inside recv_message
    if got != (PONG_SEEN, "text", None):
        problems.append("peer ping: got %r" % (got,))
    wb.send_text(CLOSE_ME)
    got = wb.recv_message()
    if got != (PEER_CLOSE_REASON, "close", PEER_CLOSE_CODE):
        problems.append("peer close: got %r" % (got,))
    if wb.close() != (1, None):  # recv_message completed the closing handshake
        problems.append("close after the closing handshake: %r" % (wb.close(),))
    return problems


def run_exchange(url, **connect_opts):
    """exchange() in a greenlet, bounded in time."""
    return gevent.spawn(exchange, url, **connect_opts).get(timeout=GREENLET_TIMEOUT)


def connect_options(scheme):
    return {"ssl_verify": True} if scheme == "wss" else {}


@pytest.mark.parametrize("kind", ["websockets", "aiohttp"])
def test_python_servers(peers, kind, scheme, trusted):
    url, peer = peers(kind, scheme)
    assert run_exchange(url, **connect_options(scheme)) == [], peer.output()


def test_node_ws_server(peers, scheme, trusted):
    require(missing_node_ws())
    url, peer = peers("node-ws", scheme)
    assert run_exchange(url, **connect_options(scheme)) == [], peer.output()


def test_nginx_lua_resty_websocket_server(peers, scheme, trusted):
    require(missing_nginx_lua())
    url, peer = peers("nginx-lua", scheme)
    assert run_exchange(url, **connect_options(scheme)) == [], peer.error_log()


@pytest.mark.parametrize("kind", ["websockets", "node-ws", "nginx-lua"])
def test_fragmented_text_from_peer(peers, kind):
    """A text message in fragments (split inside a character where the peer can) arrives whole."""
    require({"node-ws": missing_node_ws, "nginx-lua": missing_nginx_lua}.get(kind, lambda: None)())
    url, peer = peers(kind, "ws")

    def receive():
        wb, err = client.new(timeout=TIMEOUT_MS)
        ok, err, res = wb.connect(url)
        assert ok == 1, err
        wb.send_text(FRAGMENT_ME)
        got = wb.recv_message()
        wb.close()
        return got

    assert gevent.spawn(receive).get(timeout=GREENLET_TIMEOUT) == (FRAGMENTED_TEXT, "text", None)
