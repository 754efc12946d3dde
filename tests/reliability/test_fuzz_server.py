"""Random bytes fed to the real server over many connections: afterwards a normal request and a WebSocket
echo still work, no worker died (same pids), nothing was logged at [alert] or [crit]."""
import random
import socket
import time

from tests.reliability.conftest import conf, wait_workers, worker_pids
from tests.reliability.wsraw import RawWS, frame, upgrade_request
from tests.support.rawhttp import Conn

HTTP = """
    client_header_timeout 300ms;
    client_body_timeout 300ms;
    large_client_header_buffers 2 1k;
    client_max_body_size 4k;
    server {
        listen 127.0.0.1:{port};
        location = /ws { content_by_python relapp:ws_echo; }
        location = /msg { content_by_python relapp:ws_message; }
        location = /sha { content_by_python relapp:sha; }
        location / { content_by_python relapp:pid; }
    }
"""

_HTTP_BITS = [b"GET ", b"POST ", b"/", b"/sha", b"/ws", b"/msg", b" HTTP/1.1", b" HTTP/1.0", b"\r\n", b"\r\n\r\n",
              b"Host: x\r\n", b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n", b"Upgrade: websocket\r\n",
              b"Connection: Upgrade\r\n", b"Sec-WebSocket-Version: 13\r\n", b"5\r\nhello\r\n", b"0\r\n\r\n",
              b"\x00", b"\xff\xfe", b":", b" "]


def _payload(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:  # pure noise
        return rng.randbytes(rng.randrange(1, 3000))
    if kind == 1:  # HTTP-shaped noise
        return b"".join(rng.choice(_HTTP_BITS) for _ in range(rng.randrange(1, 40)))
    # a real upgrade, then noise or mangled frames
    path = rng.choice(["/ws", "/msg"])
    frames = b"".join(
        frame(rng.randrange(16), rng.randbytes(rng.randrange(0, 200)), fin=rng.random() < 0.7,
              mask=rng.random() < 0.9, rsv=rng.choice([0, 0, 0, rng.randrange(8)]),
              declared_len=rng.choice([None, None, rng.randrange(1 << 63)]))
        for _ in range(rng.randrange(1, 6)))
    tail = frames if kind == 2 else rng.randbytes(rng.randrange(1, 500))
    return upgrade_request(path) + tail


def test_random_bytes_over_many_connections_kill_no_worker(start_server):
    srv = start_server(conf(HTTP, workers=2))
    pids = wait_workers(srv, 2)
    rng = random.Random(20261125)
    t0 = time.monotonic()
    for batch in range(6):
        socks = []
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=1)
            try:
                s.sendall(_payload(rng))
                if rng.random() < 0.3:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            socks.append(s)
        for s in socks:
            if rng.random() < 0.5:  # half reset at once, half left for the server to time out or answer
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    assert time.monotonic() - t0 < 20
    time.sleep(0.5)  # the slow ones reach client_header_timeout
    assert worker_pids(srv) == pids
    for _ in range(4):
        assert Conn(srv.port).request("GET", "/").status == 200
    ws = RawWS(srv.port)
    ws.send_frame(0x1, b"after the storm")
    assert ws.recv_frame() == (0x1, b"after the storm")
    log = srv.error_log()
    assert "[alert]" not in log and "[crit]" not in log and "[emerg]" not in log and "Traceback" not in log
