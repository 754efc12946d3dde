"""gevent-websocket echo peer: gevent's pywsgi server with geventwebsocket's handler, one process."""
import argparse

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler


def app(environ, start_response):
    ws = environ.get("wsgi.websocket")
    if ws is None:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"websocket only\n"]
    while True:
        message = ws.receive()  # str for text, bytearray for binary, None once closed
        if message is None:
            break
        ws.send(message, binary=not isinstance(message, str))
    return []


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    port = ap.parse_args().port
    server = pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=WebSocketHandler,
                               log=None, backlog=4096)
    server.serve_forever()
