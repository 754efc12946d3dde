"""The error log's line shape, level filter and ngx.log's caller prefix."""
import os
import re

from cosocket import log, runtime
from cosocket.ngx import ngx

LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] (\d+)#(\d+): (.*)$")


class FakeRequest:
    connection_number = 7
    settings = None

    def log_context(self):
        return ', client: 127.0.0.1, server: localhost, request: "GET /s HTTP/1.1", host: "127.0.0.1:8080"'


def read_lines(path):
    return path.read_text().splitlines()


def test_line_shape_with_request_context(tmp_path):
    path = tmp_path / "error.log"
    log.configure([(str(path), "info")])
    try:
        token = runtime.current_request.set(FakeRequest())
        try:
            log.error(log.ERR, "failed to new websocket: bad \"upgrade\" request header: nil")
        finally:
            runtime.current_request.reset(token)
    finally:
        log.configure([("stderr", "error")])
    (line,) = read_lines(path)
    m = LINE.match(line)
    assert m, line
    assert m.group(1) == "error"
    assert int(m.group(2)) == os.getpid() == int(m.group(3))
    assert m.group(4) == ('*7 failed to new websocket: bad "upgrade" request header: nil, client: 127.0.0.1, '
                          'server: localhost, request: "GET /s HTTP/1.1", host: "127.0.0.1:8080"')


def test_level_filter_and_ngx_log_prefix(tmp_path):
    path = tmp_path / "error.log"
    log.configure([(str(path), "warn")])
    try:
        ngx.log(ngx.INFO, "dropped")
        ngx.log(ngx.WARN, "kept ", 1, " ", None, b" raw")
        assert not log.enabled(log.DEBUG)
        assert log.enabled(log.WARN)
    finally:
        log.configure([("stderr", "error")])
    (line,) = read_lines(path)
    assert line.endswith("[python] test_log.py:%d: kept 1 nil raw" % (test_level_filter_and_ngx_log_prefix.__code__.co_firstlineno + 5))
    assert "[warn]" in line


def test_reopen_follows_a_rotated_file(tmp_path):
    path = tmp_path / "error.log"
    log.configure([(str(path), "error")])
    try:
        log.error(log.ERR, "one")
        path.rename(tmp_path / "error.log.1")
        log.reopen()
        log.error(log.ERR, "two")
    finally:
        log.configure([("stderr", "error")])
    assert read_lines(tmp_path / "error.log.1")[0].endswith("one")
    assert read_lines(path)[0].endswith("two")


def test_timer_context_suffix(tmp_path):
    path = tmp_path / "error.log"
    log.configure([(str(path), "error")])
    try:
        token = runtime.in_timer.set(True)
        try:
            log.error(log.ERR, "boom")
        finally:
            runtime.in_timer.reset(token)
    finally:
        log.configure([("stderr", "error")])
    assert read_lines(path)[0].endswith("boom, context: ngx.timer")
