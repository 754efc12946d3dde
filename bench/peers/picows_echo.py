"""picows echo peer: every text/binary frame goes back as it came (one process, asyncio)."""
import argparse
import asyncio

from picows import WSCloseCode, WSListener, WSMsgType, ws_create_server


class Echo(WSListener):
    """Echoes data frames; answers close with close; picows answers pings itself."""

    def on_ws_frame(self, transport, frame):
        kind = frame.msg_type
        if kind in (WSMsgType.BINARY, WSMsgType.TEXT, WSMsgType.CONTINUATION):
            transport.send(kind, frame.get_payload_as_memoryview(), frame.fin)
        elif kind == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code() or WSCloseCode.OK)
            transport.disconnect()


async def main(port: int) -> None:
    server = await ws_create_server(lambda request: Echo(), "127.0.0.1", port,
                                    max_frame_size=4 << 20, backlog=4096)
    await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    asyncio.run(main(ap.parse_args().port))
