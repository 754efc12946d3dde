"""Fixtures shared by the cosocket tests."""
import pytest

from cosocket import pool
from tests.support.logcapture import log_file
from tests.support.redisserver import redis_server  # noqa: F401  (fixture)

from .redisclient import connected


@pytest.fixture
def errlog(tmp_path):
    """The error log at debug level in a file; returns a function giving its text."""
    yield from log_file(tmp_path, "debug")


@pytest.fixture
def fresh_pools():
    """Empty keepalive pools before and after the test."""
    pool.reset_after_fork()
    yield
    pool.reset_after_fork()


@pytest.fixture
def red(redis_server, fresh_pools):  # noqa: F811
    """A cosocket.redis client connected to the test redis-server (1 s timeouts) on a flushed database;
    closed at the end."""
    r = connected(redis_server)
    assert r.flushall() == ("OK", None)
    yield r
    r.close()
