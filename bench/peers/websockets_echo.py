"""websockets echo peer: one process, the asyncio implementation, no compression."""
import argparse
import asyncio

from websockets.asyncio.server import serve


async def echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


async def main(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, compression=None, max_size=4 << 20,
                     ping_interval=None, backlog=4096) as server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    asyncio.run(main(ap.parse_args().port))
