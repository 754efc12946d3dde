"""The raw request socket carries a WebSocket session (websocket.server over ngx.req.socket(True))."""
import asyncio

import websockets

from tests.server.conftest import conf

HTTP = """
    server {
        listen 127.0.0.1:{port};
        location = /ws { content_by_python srvapp:ws_echo; }
    }
"""


def test_websocket_echo_through_the_server(start_server):
    srv = start_server(conf(HTTP, workers=2))

    async def talk():
        async with websockets.connect(srv.url("/ws"), open_timeout=3, close_timeout=1) as ws:
            assert ws.response.status_code == 101
            assert ws.response.headers["Connection"].lower() == "upgrade"
            for text in ("hello", "é" * 1000):
                await ws.send(text)
                assert await asyncio.wait_for(ws.recv(), 2) == text

    asyncio.run(talk())
