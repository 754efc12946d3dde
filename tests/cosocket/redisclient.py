"""cosocket.redis clients on the test redis-server (tests.support.redisserver)."""
from __future__ import annotations

from cosocket import redis


def connected(server, timeout: int = 1000):
    """A cosocket.redis client connected to `server`, `timeout` ms for every step; the caller closes it."""
    r, err = redis.new()
    assert err is None
    r.set_timeout(timeout)
    assert r.connect("127.0.0.1", server.port) == (1, None)
    return r


def pause_others(server, ms: int):
    """Make `server` hold the commands of every other client for `ms` ms (CLIENT PAUSE), through a client
    of its own, which is returned for the caller to close."""
    other = connected(server)
    assert other.client("pause", ms) == ("OK", None)
    return other
