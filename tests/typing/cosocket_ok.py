"""A plain gevent program using the cosocket API: type-checked, never run."""
from __future__ import annotations

from typing import Optional

from cosocket import ngx, redis


def fetch_line(host: str, port: int) -> Optional[bytes]:
    sock = ngx.socket.tcp()
    sock.settimeouts(1000, 1000, 1000)
    ok, err = sock.connect(host, port)
    if ok is None:
        ngx.log(ngx.ERR, "failed to connect: ", err)
        return None
    sent, err = sock.send(["GET / HTTP/1.0\r\n", "\r\n"])
    if sent is None:
        return None
    line, err, partial = sock.receive("*l")
    if line is None:
        assert err is not None
        if partial is not None:
            return partial + err.encode()
        return None
    reader = sock.receiveuntil("\r\n\r\n")
    head, err, _ = reader()
    times, err = sock.getreusedtimes()
    count: int = times if times is not None else 0
    sock.setkeepalive(10000, count + 1)
    return line + (head or b"")


def counters() -> float:
    cache = ngx.shared.cache
    if cache is None:
        return 0.0
    value, flags = cache.get("hits")
    if isinstance(value, (int, float)):
        return float(value)
    ok, err, forcible = cache.set("hits", 1, 60)
    new, err, forcible = cache.incr("hits", 1, 0)
    return float(new) if new is not None else -1.0


def worker_pool() -> int:
    sema, err = ngx.semaphore.new(2)
    if sema is None:
        raise RuntimeError(err)
    ok, err = sema.wait(0.5)
    if ok:
        sema.post(1)

    def job(n: int) -> int:
        ngx.sleep(0.01)
        return n * 2

    t = ngx.thread.spawn(job, 21)
    res = ngx.thread.wait(t)
    done, err = ngx.timer.at(0, lambda premature: None)
    return len(res) + (done or 0)


def query() -> str:
    m, err = ngx.re.match("hello 42", r"(\d+)", "jo")
    if m is None:
        return err or "no match"
    red, err = redis.new()
    if red is None:
        return "no redis"
    ok, err = red.connect("127.0.0.1", 6379)
    res, err = red.get("k")
    red.set_keepalive(10000, 10)
    return str(m[1]) + ngx.encode_base64(ngx.md5_bin("x")) + str(ngx.now()) + str(res)
