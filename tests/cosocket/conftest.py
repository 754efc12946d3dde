"""Fixtures shared by the cosocket tests."""
import pytest

from cosocket import pool
from tests.support.logcapture import log_file


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
