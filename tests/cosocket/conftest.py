"""Fixtures shared by the cosocket tests."""
import pytest

from cosocket import log, pool


@pytest.fixture
def errlog(tmp_path):
    """The error log at debug level in a file; returns a function giving its text."""
    path = tmp_path / "error.log"
    log.configure([(str(path), "debug")])
    yield lambda: path.read_text() if path.exists() else ""
    log.configure([("stderr", "error")])


@pytest.fixture
def fresh_pools():
    """Empty keepalive pools before and after the test."""
    pool.reset_after_fork()
    yield
    pool.reset_after_fork()
