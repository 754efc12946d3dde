"""permessage-deflate negotiated with the implementations people use, both ways, over ws:// and wss://.

Our server (the shipped /echo, compression on) with the `websockets`, aiohttp
and Node.js `ws` clients, each with compression on; our client
(`permessage_deflate=True`) with the same three as servers
(peers/*_echo.py and node/echo_server.js, each with --deflate).  Every pair checks the
extension both sides agreed on and echoes cases.CASES plus compressible
messages sent several times (context takeover) and an empty one.
Headless Chromium's own compression is in test_deflate_chromium.py.
"""
import asyncio
import json
import subprocess
import sys

import gevent
import pytest

from websocket import client

from .cases import CASES, MAX_SIZE, aiohttp_exchange, case_id, mismatch, payload
from .conftest import NODE_DIR, PEERS, PeerProcess, client_ssl_context, free_port, missing_node_ws, require

TIMEOUT = 10.0
JSON_TEXT = json.dumps([{"id": i, "name": "user %d" % i, "active": i % 3 == 0, "tags": ["alpha", "beta"]}
                        for i in range(300)])
DEFLATE_CASES = CASES + [
    {"type": "text", "text": JSON_TEXT},
    {"type": "text", "text": JSON_TEXT},
    {"type": "text", "text": JSON_TEXT[:64]},
    {"type": "text", "text": ""},
    {"type": "text", "text": JSON_TEXT[:16384]},
]


# ---------------------------------------------------------------- our server, their clients
SERVER_ANSWER = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"


def test_websockets_client(our_server, scheme, tls_files):
    from websockets.asyncio.client import connect

    async def talk():
        async with connect(our_server.url("/echo", scheme), ssl=client_ssl_context(scheme, tls_files),
                           max_size=MAX_SIZE, compression="deflate", open_timeout=TIMEOUT, ping_interval=None) as ws:
            assert ws.response.headers["Sec-WebSocket-Extensions"] == SERVER_ANSWER
            assert [e.name for e in ws.protocol.extensions] == ["permessage-deflate"]
            for case in DEFLATE_CASES:
                await ws.send(payload(case))
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                assert mismatch(case, got) is None, mismatch(case, got)

    asyncio.run(talk())


def test_aiohttp_client(our_server, scheme, tls_files):
    import aiohttp

    async def talk():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(our_server.url("/echo", scheme),
                                          ssl=client_ssl_context(scheme, tls_files) or False,
                                          max_msg_size=MAX_SIZE, compress=15) as ws:
                assert ws.compress == 12  # the window our server asked for
                for case in DEFLATE_CASES:
                    msg = await aiohttp_exchange(ws, case, TIMEOUT)
                    assert mismatch(case, msg.data) is None, mismatch(case, msg.data)
                await ws.close()

    asyncio.run(talk())


def test_node_ws_client(our_server, scheme, tls_files):
    require(missing_node_ws())
    argv = ["node", str(NODE_DIR / "echo_client.js"), "--deflate", our_server.url("/echo", scheme),
            json.dumps(DEFLATE_CASES)]
    if scheme == "wss":
        argv.append(str(tls_files / "ca.pem"))
    out = subprocess.run(argv, cwd=str(NODE_DIR), capture_output=True, text=True, timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "error" not in result, result
    assert result["extensions"] == SERVER_ANSWER
    problems = [case_id(c) + ": " + m["why"] for c, m in zip(DEFLATE_CASES, result["messages"]) if not m["ok"]]
    assert problems == [] and len(result["messages"]) == len(DEFLATE_CASES)
    assert result["close"]["code"] == 1000


# ---------------------------------------------------------------- our client, their servers
@pytest.fixture(scope="module")
def deflate_peers(tmp_path_factory, tls_files):
    """Compressing echo servers started on first use: deflate_peers(kind, scheme) -> url."""
    started = {}
    log_dir = tmp_path_factory.mktemp("deflate-peers")

    def get(kind, scheme):
        key = (kind, scheme)
        if key not in started:
            port = free_port()
            tls = [str(tls_files / "server.pem"), str(tls_files / "server.key")] if scheme == "wss" else []
            if kind == "node-ws":
                argv, cwd = ["node", str(NODE_DIR / "echo_server.js"), "--deflate", str(port)] + tls, NODE_DIR
            else:
                argv, cwd = [sys.executable, str(PEERS / ("%s_echo.py" % kind)), "--deflate", str(port)] + tls, None
            started[key] = PeerProcess("deflate-%s-%s" % (kind, scheme), argv, port, log_dir, cwd=cwd)
        return "%s://127.0.0.1:%d/echo" % (scheme, started[key].port), started[key]

    yield get
    for peer in started.values():
        peer.stop()


PEER_ANSWERS = {
    # websockets' server defaults: 12-bit windows, memLevel 5
    "websockets": "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    "aiohttp": "permessage-deflate",
    "node-ws": "permessage-deflate",
}


def our_client_exchange(url, scheme):
    problems = []
    wb, err = client.new(max_payload_len=MAX_SIZE, timeout=int(TIMEOUT * 1000), permessage_deflate=True)
    ok, err, _ = wb.connect(url, **({"ssl_verify": True} if scheme == "wss" else {}))
    if ok != 1:
        return None, ["connect: %s" % err]
    agreed = wb.extensions
    wb.send_text("extensions?", compress=False)
    data, typ, err = wb.recv_message()
    if data != agreed:
        problems.append("the peer agreed %r, we %r" % (data, agreed))
    for case in DEFLATE_CASES:
        data = payload(case)
        sent, err = (wb.send_text if case["type"] == "text" else wb.send_binary)(data)
        if sent is None:
            return agreed, problems + ["%s: send: %s" % (case_id(case), err)]
        data, typ, err = wb.recv_message()
        if data is None:
            return agreed, problems + ["%s: no echo: %s" % (case_id(case), err)]
        problem = mismatch(case, data)
        if problem:
            problems.append(problem)
    wb.close()
    return agreed, problems


@pytest.mark.parametrize("kind", ["websockets", "aiohttp", "node-ws"])
def test_our_client(deflate_peers, kind, scheme, trusted):
    if kind == "node-ws":
        require(missing_node_ws())
    url, peer = deflate_peers(kind, scheme)
    agreed, problems = gevent.spawn(our_client_exchange, url, scheme).get(timeout=60)
    assert problems == [], peer.output()
    assert agreed == PEER_ANSWERS[kind]
