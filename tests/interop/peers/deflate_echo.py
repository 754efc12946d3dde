"""Echo servers with permessage-deflate on, for the compression interop tests.

    python deflate_echo.py websockets|aiohttp PORT [CERT KEY]

Each echoes every message with its type, compressing as its library does by
default once the client offered permessage-deflate.  The text "extensions?"
is answered with the Sec-WebSocket-Extensions header the server sent.
"""
import asyncio
import ssl
import sys

from echo_rules import MAX_SIZE

ASK = "extensions?"


async def websockets_main(port, context):
    from websockets.asyncio.server import serve

    async def echo(ws):
        async for message in ws:
            if message == ASK:
                await ws.send(ws.response.headers.get("Sec-WebSocket-Extensions", ""))
            else:
                await ws.send(message)

    async with serve(echo, "127.0.0.1", port, ssl=context, max_size=MAX_SIZE, compression="deflate",
                     ping_interval=None):
        print("listening", flush=True)
        await asyncio.get_running_loop().create_future()


async def aiohttp_main(port, context):
    from aiohttp import WSMsgType, web

    async def echo(request):
        ws = web.WebSocketResponse(max_msg_size=MAX_SIZE, compress=True)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                if msg.data == ASK:
                    await ws.send_str(ws.headers.get("Sec-WebSocket-Extensions", ""))
                else:
                    await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    print("listening", flush=True)
    await asyncio.get_running_loop().create_future()


def main(kind, port, cert=None, key=None):
    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    run = websockets_main if kind == "websockets" else aiohttp_main
    asyncio.run(run(int(port), context))


if __name__ == "__main__":
    main(*sys.argv[1:5])
