"""Echo server on the `websockets` library (asyncio), for the interop tests.

    python websockets_echo.py PORT [CERT KEY]

Echoes each message with its type; the text "close-me" makes it close with
4002 "peer bye ✓", "fragment-me" makes it send "é!" in two fragments, "ping-me" makes it ping and
say "pong received" once the pong is back.  A client's close frame is answered by the library, which
echoes its code and reason.
"""
import asyncio
import ssl
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosedError

from echo_rules import (CLOSE_ME, FRAGMENT_ME, FRAGMENTED_TEXT, MAX_SIZE, PEER_CLOSE_CODE, PEER_CLOSE_REASON,
                        PEER_PING, PING_ME, PONG_SEEN)


async def echo(ws):
    try:
        async for message in ws:
            if message == CLOSE_ME:
                await ws.close(PEER_CLOSE_CODE, PEER_CLOSE_REASON)
                return
            if message == FRAGMENT_ME:
                await ws.send(list(FRAGMENTED_TEXT))  # one fragment per character
                continue
            if message == PING_ME:
                pong = await ws.ping(PEER_PING)  # resolves on the pong carrying this payload
                await asyncio.wait_for(pong, 5)
                await ws.send(PONG_SEEN)
                continue
            await ws.send(message)
    except ConnectionClosedError:  # a close code other than 1000/1001 (the tests close with 4001)
        pass


async def main(port, cert=None, key=None):
    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    async with serve(echo, "127.0.0.1", port, ssl=context, max_size=MAX_SIZE, compression=None,
                     ping_interval=None):
        print("listening", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), *sys.argv[2:4]))
