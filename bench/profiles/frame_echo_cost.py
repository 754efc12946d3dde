#!/usr/bin/env python3
"""Instructions per echoed WebSocket message through websocket.server's frame API, for A/B of source trees.

    python3 bench/profiles/frame_echo_cost.py --sizes 64,16384                 # this checkout
    python3 bench/profiles/frame_echo_cost.py --tree /tmp/base --sizes 16384   # another checkout (A/B)

One process, loopback TCP: a gevent client sends pre-masked binary frames
and reads each echo; the server side is the object `websocket.server.new`
gives (built here on an accepted socket with the same code), looping
`recv_frame` / `send_binary` as upstream's echo example does.  Each size runs
twice under `valgrind --tool=callgrind` (N and 2N messages); the difference /
N is the cost of one message (client included, start-up cancelled).
Instruction counts do not depend on what else the machine runs, unlike
timings on a shared 2-core box.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

CHILD = r'''
import sys
import gevent
from gevent import socket as gsocket
from cosocket.tcp import TCPSocket
from websocket.protocol import Channel
size, count = int(sys.argv[1]), int(sys.argv[2])
if size <= 125:
    head = bytes((0x82, 0x80 | size))
else:
    head = bytes((0x82, 0x80 | 126)) + size.to_bytes(2, "big")
wire = head + b"\1\2\3\4" + bytes(size)
reply_len = len(wire) - 4
lsock = gsocket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(1)
client = gsocket.create_connection(lsock.getsockname())
conn, addr = lsock.accept()
for s in (client, conn):
    s.setsockopt(gsocket.IPPROTO_TCP, gsocket.TCP_NODELAY, 1)
sock = TCPSocket.from_accepted(conn, addr)
sock.settimeout(5000)
wb = Channel(sock, 1 << 20, 1 << 20, False, True)
def server():
    while True:
        data, typ, err = wb.recv_frame()
        if data is None:
            return
        wb.send_binary(data)
srv = gevent.spawn(server)
buf = bytearray(reply_len)
view = memoryview(buf)
for _ in range(count):
    client.sendall(wire)
    got = 0
    while got < reply_len:
        got += client.recv_into(view[got:])
client.close()
srv.join(2)
'''


def instructions(tree: str, size: int, count: int) -> int:
    out = tempfile.mktemp(prefix="callgrind.")
    env = dict(os.environ, PYTHONPATH=tree)
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable, "-c", CHILD,
                    str(size), str(count)], env=env, check=True, capture_output=True,
                   cwd=tempfile.gettempdir())  # not a checkout: `-c` puts the current directory first on sys.path
    with open(out) as f:
        text = f.read()
    os.unlink(out)
    return int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--sizes", default="64,16384")
    ap.add_argument("--count", type=int, default=1000)
    opts = ap.parse_args()
    for size in (int(s) for s in opts.sizes.split(",")):
        small = instructions(opts.tree, size, opts.count)
        big = instructions(opts.tree, size, 2 * opts.count)
        print("%7d B  %9.0f instructions per message" % (size, (big - small) / opts.count))


if __name__ == "__main__":
    main()
