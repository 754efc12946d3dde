"""Echo server on the `websockets` library (asyncio), for the interop tests.

    python websockets_echo.py [--deflate] PORT [CERT KEY]

Echoes each message with its type; the text "close-me" makes it close with
4002 "peer bye ✓", "fragment-me" makes it send "é!" in two fragments, "ping-me" makes it ping and
say "pong received" once the pong is back.  A client's close frame is answered by the library, which
echoes its code and reason.  "extensions?" is answered with the Sec-WebSocket-Extensions header sent
("" without one).  --deflate turns permessage-deflate on (the library's default settings), else it is off.
"""
import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosedError

from echo_rules import (ASK_EXTENSIONS, CLOSE_ME, FRAGMENT_ME, FRAGMENTED_TEXT, MAX_SIZE, PEER_CLOSE_CODE,
                        PEER_CLOSE_REASON, PEER_PING, PING_ME, PONG_SEEN, peer_args)


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
            if message == ASK_EXTENSIONS:
                await ws.send(ws.response.headers.get("Sec-WebSocket-Extensions", ""))
                continue
            await ws.send(message)
    except ConnectionClosedError:  # a close code other than 1000/1001 (the tests close with 4001)
        pass


async def main(deflate, port, context):
    async with serve(echo, "127.0.0.1", port, ssl=context, max_size=MAX_SIZE,
                     compression="deflate" if deflate else None, ping_interval=None):
        print("listening", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(*peer_args(sys.argv[1:])))
