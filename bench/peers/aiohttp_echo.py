"""aiohttp echo peer: one process, asyncio, /echo echoes text and binary messages; --deflate compresses."""
import argparse

from aiohttp import WSMsgType, web


DEFLATE = False


async def echo(request: web.Request) -> web.WebSocketResponse:
    # compress=15: permessage-deflate with a 15-bit window when the client offers it; False: never
    ws = web.WebSocketResponse(max_msg_size=4 << 20, autoping=True, compress=15 if DEFLATE else False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--deflate", action="store_true", help="accept permessage-deflate (RFC 7692)")
    args = ap.parse_args()
    DEFLATE = args.deflate
    app = web.Application()
    app.router.add_get("/echo", echo)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None,
                print=None, backlog=4096)
