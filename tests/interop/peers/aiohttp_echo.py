"""Echo server on aiohttp's web framework, for the interop tests.

    python aiohttp_echo.py [--deflate] PORT [CERT KEY]

Echoes each message with its type; the text "close-me" makes it close with
4002 "peer bye ✓", "ping-me" makes it ping and say "pong received" when the
pong is back (autoping is off); a client's close frame is answered with the same code and
reason (autoclose is off so that the reply is ours: aiohttp's own would say 1000).  "extensions?" is
answered with the Sec-WebSocket-Extensions header sent ("" without one).  --deflate turns
permessage-deflate on (aiohttp's `compress=True`), else it is off.
"""
import asyncio
import functools
import sys

from aiohttp import WSMsgType, web

from echo_rules import (ASK_EXTENSIONS, CLOSE_ME, MAX_SIZE, PEER_CLOSE_CODE, PEER_CLOSE_REASON, PEER_PING, PING_ME,
                        PONG_SEEN, peer_args)


async def echo(request, deflate=False):
    ws = web.WebSocketResponse(autoclose=False, autoping=False, max_msg_size=MAX_SIZE, compress=deflate)
    await ws.prepare(request)
    while True:  # not `async for`: it stops before handing over the CLOSE message
        msg = await ws.receive()
        if msg.type == WSMsgType.TEXT:
            if msg.data == CLOSE_ME:
                await ws.close(code=PEER_CLOSE_CODE, message=PEER_CLOSE_REASON.encode())
                break
            if msg.data == PING_ME:
                await ws.ping(PEER_PING)
                continue
            if msg.data == ASK_EXTENSIONS:
                await ws.send_str(ws.headers.get("Sec-WebSocket-Extensions", ""))
                continue
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
        elif msg.type == WSMsgType.PING:
            await ws.pong(msg.data)
        elif msg.type == WSMsgType.PONG:
            if msg.data == PEER_PING:
                await ws.send_str(PONG_SEEN)
        elif msg.type == WSMsgType.CLOSE:
            await ws.close(code=msg.data, message=(msg.extra or "").encode())
            break
        else:  # CLOSING, CLOSED, ERROR
            break
    return ws


async def main(deflate, port, context):
    app = web.Application()
    app.router.add_get("/echo", functools.partial(echo, deflate=deflate))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    print("listening", flush=True)
    await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(*peer_args(sys.argv[1:])))
