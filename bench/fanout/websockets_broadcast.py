"""The websockets peer of the fan-out benchmark: one asyncio process, broadcast() to every /sub client."""
import argparse
import asyncio

from websockets.asyncio.server import broadcast, serve

SUBSCRIBERS = set()


async def handler(ws) -> None:
    if ws.request.path == "/pub":
        async for message in ws:
            broadcast(SUBSCRIBERS, message)
        return
    SUBSCRIBERS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        SUBSCRIBERS.discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=4096,
                     max_size=1 << 20) as srv:
        await srv.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    asyncio.run(main(ap.parse_args().port))
