"""Memory follows the bytes a client sends, never the lengths it announces: many connections announcing huge
bodies (Content-Length, chunk sizes, ngx.req.socket reads) and sending a few bytes leave the worker's RSS
where it was."""
import socket
import time

from tests.reliability.conftest import conf, rss_kib, worker_pids

HTTP = """
    client_max_body_size 0;
    client_body_timeout 10s;
    server {
        listen 127.0.0.1:{port};
        location = /sha { content_by_python relapp:sha; }
        location = /sock { content_by_python relapp:body_socket; }
    }
"""

#: What each connection announces, in bytes (the worker would need this much per connection if it reserved it).
ANNOUNCED = 100 * 1024 * 1024
#: Connections per kind of announcement.
PER_KIND = 2
#: How much the worker may grow while they wait, in KiB.
GROWTH_LIMIT_KIB = 40 * 1024


def _announce(port: int, head: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(head + b"abc")
    return s


def test_huge_announced_lengths_on_many_connections_do_not_grow_the_worker(start_server):
    srv = start_server(conf(HTTP))
    (pid,) = worker_pids(srv)
    warm = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    warm.sendall(b"POST /sha HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    assert warm.recv(65536).startswith(b"HTTP/1.1 200")
    warm.close()
    time.sleep(0.2)
    before = rss_kib(pid)
    heads = [
        b"POST /sha HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % ANNOUNCED,
        b"POST /sha HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % ANNOUNCED,
        b"POST /sock HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % ANNOUNCED,
    ]
    conns = [_announce(srv.port, head) for head in heads for _ in range(PER_KIND)]
    try:
        time.sleep(1.0)  # the handlers are reading, each waiting for the rest
        grown = rss_kib(pid) - before
        assert grown < GROWTH_LIMIT_KIB, "the worker grew by %d KiB for %d bytes sent" % (grown, 3 * len(conns))
    finally:
        for c in conns:
            c.close()
    assert worker_pids(srv) == [pid]
