"""Echo server on aiohttp's web framework, for the interop tests.

    python aiohttp_echo.py PORT [CERT KEY]

Echoes each message with its type; the text "close-me" makes it close with
4002 "peer bye ✓", "ping-me" makes it ping and say "pong received" when the
pong is back (autoping is off); a client's close frame is answered with the same code and
reason (autoclose is off so that the reply is ours: aiohttp's own would say 1000).
"""
import asyncio
import ssl
import sys

from aiohttp import WSMsgType, web

from echo_rules import CLOSE_ME, MAX_SIZE, PEER_CLOSE_CODE, PEER_CLOSE_REASON, PEER_PING, PING_ME, PONG_SEEN


async def echo(request):
    ws = web.WebSocketResponse(autoclose=False, autoping=False, max_msg_size=MAX_SIZE)
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


async def main(port, cert=None, key=None):
    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    print("listening", flush=True)
    await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), *sys.argv[2:4]))
