"""Small TCP servers on 127.0.0.1 for the cosocket tests."""
from __future__ import annotations

from gevent.server import StreamServer


def tcp_server(handle):
    """The body of a fixture: yields a started gevent StreamServer on 127.0.0.1 that runs `handle(sock)`
    for each connection (an OSError ends it quietly) and keeps every accepted socket in `.conns`;
    stopped at the end."""
    conns = []

    def run(sock, addr):
        conns.append(sock)
        try:
            handle(sock)
        except OSError:
            pass

    srv = StreamServer(("127.0.0.1", 0), run)
    srv.start()
    srv.conns = conns
    yield srv
    srv.stop(timeout=0.1)


def echo(sock) -> None:
    """Send back everything received until the peer closes."""
    while True:
        data = sock.recv(1024)
        if not data:
            return
        sock.sendall(data)


def hold(sock) -> None:
    """Read and drop everything until the peer closes, keeping the connection open till then."""
    while sock.recv(1024):
        pass
