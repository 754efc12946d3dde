#!/usr/bin/env python3
"""The RSS floor of one parked greenlet per connection (what no idle-memory work in our modules can remove).

    python3 bench/profiles/greenlet_floor.py      # RSS growth per greenlet, 2000 greenlets per variant

Each variant parks 2000 greenlets, one per socketpair, waiting for data:
raw greenlet on an io watcher; gevent.spawn + gevent socket recv; + a socket
timeout (a gevent Timeout per wait); + the handler run through exec() (as
content_by_python_file does).  Each variant runs in a fresh interpreter.
"""
import subprocess
import sys

CHILD = r'''
import gc, sys, greenlet, gevent
from gevent import socket as gs
from gevent.hub import get_hub
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) * 1024
N = 2000
mode = sys.argv[1]
hub = get_hub()
pairs = [gs.socketpair() for _ in range(N)]
gevent.sleep(0)
def on_watcher(a):
    hub.wait(hub.loop.io(a.fileno(), 1))
def on_recv(a):
    if mode == "timeout":
        a.settimeout(60)
    a.recv(10)
code = compile("on_recv(a)", "handler", "exec")
def via_exec(a):
    exec(code, {"on_recv": on_recv, "a": a})
gc.collect()
r0 = rss()
if mode == "raw":
    gl = [greenlet.greenlet(on_watcher, parent=hub) for _ in pairs]
    for g, (a, b) in zip(gl, pairs):
        hub.loop.run_callback(g.switch, a)
else:
    target = via_exec if mode == "exec" else on_recv
    gl = [gevent.spawn(target, a) for a, b in pairs]
gevent.sleep(0.1)
gc.collect()
print((rss() - r0) // N)
'''

VARIANTS = [("raw", "raw greenlet waiting on an io watcher"),
            ("recv", "gevent.spawn + gevent socket recv, no timeout"),
            ("timeout", "... with a socket timeout (Timeout per wait)"),
            ("exec", "... no timeout, handler run through exec()")]

for mode, what in VARIANTS:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True).stdout
    print("%6s B  %s" % (out.strip(), what))
