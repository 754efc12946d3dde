"""websockets echo peer: one process, the asyncio implementation; compression off unless --deflate."""
import argparse
import asyncio

from websockets.asyncio.server import serve


async def echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


async def main(port: int, deflate: bool) -> None:
    # --deflate: permessage-deflate with the library's defaults (what `compression="deflate"` negotiates)
    async with serve(echo, "127.0.0.1", port, compression="deflate" if deflate else None, max_size=4 << 20,
                     ping_interval=None, backlog=4096) as server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--deflate", action="store_true", help="accept permessage-deflate (RFC 7692)")
    args = ap.parse_args()
    asyncio.run(main(args.port, args.deflate))
