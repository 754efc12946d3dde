"""The cosocket error log sent to a file for one test.

    @pytest.fixture
    def errlog(tmp_path):
        yield from log_file(tmp_path, "debug")   # the test gets errlog() -> the text so far
"""
from __future__ import annotations

from pathlib import Path

from cosocket import log


def log_file(directory: Path, level: str):
    """The body of a fixture: logs at `level` and above go to `directory`/error.log; yields a function
    giving its text ("" before the first line), and puts the log back on stderr at error afterwards."""
    path = directory / "error.log"
    log.configure([(str(path), level)])
    yield lambda: path.read_text() if path.exists() else ""
    log.configure([("stderr", "error")])
