"""Our server (the shipped conf/nginx.conf, /echo) with the clients people use:
the `websockets` library, aiohttp and Node.js `ws`, over ws:// and wss://.

Each client sends every message of cases.CASES and checks the echo, pings and
checks the pong, then closes with 4001 "bye ✓" and checks the server's close
frame carries the same code and that the server then closes TCP at once.
"""
import asyncio
import json
import subprocess
import time

from .cases import (CASES, CLOSE_CODE, CLOSE_REASON, MAX_SIZE, PING_PAYLOAD, aiohttp_exchange, case_id, cases_json,
                    mismatch, payload)
from .conftest import NODE_DIR, client_ssl_context, missing_node_ws, require

TIMEOUT = 5.0
#: How soon after the close frames cross our server must close TCP (seconds).
CLOSE_TCP_WITHIN = 1.0


def test_websockets_client(our_server, scheme, tls_files):
    from websockets.asyncio.client import connect

    async def talk():
        async with connect(our_server.url("/echo", scheme), ssl=client_ssl_context(scheme, tls_files),
                           max_size=MAX_SIZE, compression=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT,
                           ping_interval=None) as ws:
            assert ws.response.status_code == 101
            for case in CASES:
                await ws.send(payload(case))
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                assert mismatch(case, got) is None, mismatch(case, got)
            pong = await ws.ping(PING_PAYLOAD)  # resolves only on a pong with this payload
            await asyncio.wait_for(pong, TIMEOUT)
            started = time.monotonic()
            await ws.close(CLOSE_CODE, CLOSE_REASON)
            # websockets waits for the server to close TCP (RFC 6455 7.1.1); ours does at once
            assert time.monotonic() - started < CLOSE_TCP_WITHIN
            assert ws.protocol.close_rcvd is not None, "no close frame from the server"
            assert ws.protocol.close_rcvd.code == CLOSE_CODE

    asyncio.run(talk())


def test_aiohttp_client(our_server, scheme, tls_files):
    import aiohttp

    async def talk():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(our_server.url("/echo", scheme),
                                          ssl=client_ssl_context(scheme, tls_files) or False,
                                          max_msg_size=MAX_SIZE, autoping=False, autoclose=False,
                                          compress=0) as ws:
                for case in CASES:
                    msg = await aiohttp_exchange(ws, case, TIMEOUT)
                    want = aiohttp.WSMsgType.TEXT if case["type"] == "text" else aiohttp.WSMsgType.BINARY
                    assert msg.type == want, "%s: got %r" % (case_id(case), msg.type)
                    assert mismatch(case, msg.data) is None, mismatch(case, msg.data)
                await ws.ping(PING_PAYLOAD)
                msg = await ws.receive(timeout=TIMEOUT)
                assert (msg.type, msg.data) == (aiohttp.WSMsgType.PONG, PING_PAYLOAD)
                await ws.close(code=CLOSE_CODE, message=CLOSE_REASON.encode())
                assert ws.close_code == CLOSE_CODE

    asyncio.run(talk())


def test_node_ws_client(our_server, scheme, tls_files):
    require(missing_node_ws())
    argv = ["node", str(NODE_DIR / "echo_client.js"), our_server.url("/echo", scheme), cases_json()]
    if scheme == "wss":
        argv.append(str(tls_files / "ca.pem"))
    run = subprocess.run(argv, cwd=str(NODE_DIR), capture_output=True, timeout=30)
    lines = run.stdout.decode().strip().splitlines()
    assert run.returncode == 0 and lines, (run.stdout + run.stderr).decode(errors="replace")
    result = json.loads(lines[-1])
    assert len(result["messages"]) == len(CASES)
    for case, got in zip(CASES, result["messages"]):
        assert got["ok"], "%s: %s" % (case_id(case), got["why"])
    assert result["pong"] is True, "no pong with the ping's payload"
    assert result["close"]["code"] == CLOSE_CODE, result["close"]


def test_fragmented_text_from_websockets_client(our_server):
    """A text message sent in fragments comes back whole."""
    from websockets.asyncio.client import connect

    async def talk():
        async with connect(our_server.url("/echo"), compression=None, open_timeout=TIMEOUT,
                           close_timeout=TIMEOUT, ping_interval=None) as ws:
            await ws.send(["frag", "mented ", "✓"])
            return await asyncio.wait_for(ws.recv(), TIMEOUT)

    assert asyncio.run(talk()) == "fragmented ✓"


def test_fragmented_text_split_inside_a_character_from_node_ws(our_server):
    """Node.js `ws` can split a character's bytes between fragments: the echo is the same text."""
    require(missing_node_ws())
    run = subprocess.run(["node", str(NODE_DIR / "send_fragments.js"), our_server.url("/echo")],
                         cwd=str(NODE_DIR), capture_output=True, timeout=30)
    lines = run.stdout.decode().strip().splitlines()
    assert run.returncode == 0 and lines, (run.stdout + run.stderr).decode(errors="replace")
    assert json.loads(lines[-1]) == {"binary": False, "text": "é!"}
