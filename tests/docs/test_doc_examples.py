"""Every Python example of README.md and docs/**/*.md runs, so the documentation cannot drift from the code.

The markers that say how a block runs are described in docs/reference/README.md
("How the examples are tested") and parsed by tests/docs/extract.py:

* `handler` blocks are served as `content_by_python_file` scripts by one
  cosocket-server started for this module (two workers, the `http-conf`
  blocks of the docs in its http block, conf/handlers/echo.py at /echo);
  each is requested once (a GET, a form POST, or a WebSocket session that
  sends "hello") and must answer 2xx (or the status its marker names) / complete its session without an error in the log,
  printing the `output` block when one follows.
* `run` blocks are programs run with this Python; the port number 8080 in
  them is replaced by the test server's port.  They must exit 0 within 30 s
  and print the `output` block when one follows.
* `module` blocks are importable on the server's python_path.
* `lua-handler` blocks (the Lua side of a port) run as `content_by_lua_file`
  scripts on Debian's nginx with lua-nginx-module, requested the same way,
  and must print their own output block (skipped, naming the Debian
  package, when one is missing).
* `skip` blocks are fragments: they must still compile, and are listed.
* A handler or program marked `redis` talks to a redis-server the test
  starts (6379 in its text is replaced by that server's port); without the
  redis-server package it is skipped, saying so.
"""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import gevent
import pytest

from tests.docs.extract import ROOT, all_blocks
from tests.support.redisserver import RedisServer, find_binary
from tests.support import nginxref
from tests.support.serverproc import ServerProcess, free_port

BLOCKS = all_blocks()
PY = [b for b in BLOCKS if b.lang == "python"]
HANDLERS = [b for b in PY if b.kind == "handler"]
RUNS = [b for b in PY if b.kind == "run"]
MODULES = [b for b in PY if b.kind == "module"]
SKIPS = [b for b in PY if b.kind == "skip"]
HTTP_CONF = [b for b in BLOCKS if b.kind == "http-conf"]
LUA_HANDLERS = [b for b in BLOCKS if b.kind == "lua-handler"]

# Lines of the error log that mean a handler, thread or timer failed.
_FAILURE_MARKS = ("thread aborted", "runtime error", "Traceback", "callback failed", "by_python error",
                  "[emerg]", "[alert]")


def _ids(blocks):
    return [b.where for b in blocks]


def _location(block) -> str:
    return block.args[0].split("?", 1)[0]


_NO_REDIS = "redis-server not found (Debian package: redis-server)"


def _uses_redis(block) -> bool:
    return "redis" in block.args[1:] or (block.kind == "run" and "redis" in block.args)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    """The port of a redis-server for the blocks marked `redis` (None when none is installed)."""
    if not any(_uses_redis(b) for b in PY) or find_binary() is None:
        yield None
        return
    srv = RedisServer(tmp_path_factory.mktemp("docs-redis")).start()
    yield srv.port
    srv.stop()


def _with_redis(block, text: str, port) -> str:
    """`text` with Redis's default port 6379 replaced by the test's redis-server port."""
    if not _uses_redis(block):
        return text
    if port is None:
        pytest.skip(_NO_REDIS)
    return re.sub(r"\b6379\b", str(port), text)


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory, redis_port):
    """The server the handler blocks run on; the module blocks on its python_path."""
    prefix = tmp_path_factory.mktemp("docs-server")
    (prefix / "handlers").mkdir()
    (prefix / "modules").mkdir()
    for b in MODULES:
        (prefix / "modules" / (b.args[0] + ".py")).write_text(b.text)
    locations = ["location = /echo { content_by_python_file %s; }" % (ROOT / "conf/handlers/echo.py")]
    seen = {}
    for n, b in enumerate(HANDLERS):
        loc = _location(b)
        if loc in seen:
            raise AssertionError("%s and %s both serve %s" % (seen[loc], b.where, loc))
        seen[loc] = b.where
        script = prefix / "handlers" / ("h%d.py" % n)
        script.write_text(b.text if redis_port is None else _with_redis(b, b.text, redis_port))
        locations.append("location = %s { content_by_python_file %s; }" % (loc, script))
    http_conf = "\n".join(b.text for b in HTTP_CONF)
    conf = ("worker_processes 2;\nerror_log logs/error.log info;\npid logs/nginx.pid;\n"
            'python_path "%s/modules/?.py;;";\nevents { worker_connections 256; }\n'
            "http {\n%s\nserver {\nlisten 127.0.0.1:{port};\n%s\n}\n}\n"
            % (prefix, http_conf, "\n".join(locations)))
    srv = ServerProcess(prefix, conf)
    srv.start()
    yield srv
    srv.stop()


class _LogWatch:
    """The part of the server's error log written while a block ran."""

    def __init__(self, srv):
        self.path = Path(srv.prefix) / "logs" / "error.log"
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def new_text(self) -> str:
        with open(self.path, "rb") as f:
            f.seek(self.start)
            return f.read().decode("utf-8", "replace")

    def assert_clean(self, where: str) -> None:
        text = self.new_text()
        bad = [line for line in text.splitlines() if any(m in line for m in _FAILURE_MARKS)]
        assert not bad, "%s: the server logged a failure:\n%s" % (where, text)


def test_every_python_block_is_marked(capsys):
    """Every Python block says how it runs (an unmarked one is an error); the counts are printed."""
    lines = ["doc examples: %d handlers, %d programs, %d modules, %d Lua handlers run; %d compiled only:"
             % (len(HANDLERS), len(RUNS), len(MODULES), len(LUA_HANDLERS), len(SKIPS))]
    lines += ["  %s %s" % (b.where, b.args[0] if b.args else "") for b in SKIPS]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    unmarked = [b.where for b in PY if b.kind not in ("handler", "run", "module", "skip")]
    assert not unmarked, "Python blocks without a doc-test marker: %s" % ", ".join(unmarked)
    wrong = [b.where for b in BLOCKS if b.kind == "http-conf" and b.lang != "nginx"]
    assert not wrong, "http-conf markers on non-nginx blocks: %s" % ", ".join(wrong)
    wrong = [b.where for b in BLOCKS if b.kind == "lua-handler" and b.lang != "lua"]
    assert not wrong, "lua-handler markers on non-Lua blocks: %s" % ", ".join(wrong)


@pytest.mark.parametrize("block", SKIPS, ids=_ids(SKIPS))
def test_skipped_block_compiles(block):
    """A block marked skip is a fragment, not broken code: it must compile."""
    compile(block.text, block.where, "exec")


@pytest.mark.parametrize("block", MODULES, ids=_ids(MODULES))
def test_module_imports(block, docs_server):
    """A module block imports on its own (the server's init hooks have loaded it already)."""
    env = dict(os.environ, PYTHONPATH=str(Path(docs_server.prefix) / "modules") + os.pathsep + str(ROOT))
    proc = subprocess.run([sys.executable, "-c", "import " + block.args[0]], env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, "%s: %s" % (block.where, proc.stderr)


def _http_request(port: int, target: str, body=None):
    """GET `target`, or POST `body` as a form when given -> (status, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        if body is None:
            conn.request("GET", target)
        else:
            conn.request("POST", target, body=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _websocket_session(url: str):
    """Connect, send "hello", collect text messages until the server closes or 1 s passes quietly."""
    from websocket import client

    def session():
        wb, err = client.new(timeout=1000)
        ok, err, _ = wb.connect(url)
        assert ok, "connect: %s" % err
        sent, err = wb.send_text("hello")
        assert sent is not None, "send: %s" % err
        got = []
        while True:
            data, typ, err = wb.recv_message()
            if data is None or typ == "close":
                break
            if typ == "text":
                got.append(data)
        wb.close()
        return got

    return gevent.spawn(session).get(timeout=20)


@pytest.mark.parametrize("block", HANDLERS, ids=_ids(HANDLERS))
def test_handler_block(block, docs_server, redis_port):
    """A handler block answers its request (or WebSocket session) without a failure in the error log."""
    _with_redis(block, "", redis_port)
    watch = _LogWatch(docs_server)
    target = block.args[0]
    if "websocket" in block.args[1:]:
        got = _websocket_session(docs_server.url(target))
        time.sleep(0.2)  # let the handler finish and log
        watch.assert_clean(block.where)
        if block.output is not None:
            assert "".join(m + "\n" for m in got) == block.output, block.where
        return
    options = dict(arg.split("=", 1) for arg in block.args[1:] if "=" in arg)
    status, body = _http_request(docs_server.port, target, options.get("post"))
    time.sleep(0.05)
    if "status" in options:
        assert status == int(options["status"]), "%s: status %d\n%s" % (block.where, status, body)
    else:
        assert 200 <= status < 300, "%s: status %d\n%s\n%s" % (block.where, status, body, watch.new_text())
    if "logs-error" in block.args[1:]:
        assert "thread aborted" in watch.new_text(), "%s: the failure it shows was not logged" % block.where
    else:
        watch.assert_clean(block.where)
    if block.output is not None:
        assert body == block.output, block.where


# --- the Lua side of the ports: Debian's nginx with lua-nginx-module ------------------------

@pytest.fixture(scope="module")
def lua_server(tmp_path_factory):
    """nginx serving the lua-handler blocks (Debian installs lua-resty-websocket as nginx.websocket.*,
    so `resty.websocket.*` is mapped onto it), or a skip naming the missing package."""
    nginxref.require(websocket=True)
    prefix = tmp_path_factory.mktemp("docs-nginx")
    (prefix / "lua/resty/websocket").mkdir(parents=True)
    for name in ("server", "client", "protocol"):
        (prefix / "lua/resty/websocket" / (name + ".lua")).write_text('return require "nginx.websocket.%s"\n' % name)
    locations = []
    for n, b in enumerate(LUA_HANDLERS):
        script = prefix / "lua" / ("h%d.lua" % n)
        script.write_text(b.text)
        locations.append("location = %s { content_by_lua_file %s; }" % (_location(b), script))
    dicts = "\n".join(line.strip() for b in HTTP_CONF for line in b.text.splitlines()
                      if line.strip().startswith("lua_shared_dict"))
    port = free_port()
    body = "%s\nserver {\nlisten 127.0.0.1:%d;\n%s\n}\n" % (dicts, port, "\n".join(locations))
    ref = nginxref.NginxRef(prefix, nginxref.conf(body, "%s/lua/?.lua;;" % prefix), ports=(port,))
    yield ref
    ref.stop()


@pytest.mark.parametrize("block", LUA_HANDLERS, ids=_ids(LUA_HANDLERS))
def test_lua_handler_block(block, lua_server):
    """The Lua side of a port runs on nginx with lua-nginx-module and prints its output block too."""
    log = lua_server.prefix / "logs" / "error.log"
    start = log.stat().st_size if log.exists() else 0
    url = "ws://127.0.0.1:%d%s" % (lua_server.port, block.args[0])
    if "websocket" in block.args[1:]:
        got = "".join(m + "\n" for m in _websocket_session(url))
    else:
        status, got = _http_request(lua_server.port, block.args[0])
        assert 200 <= status < 300, "%s: status %d" % (block.where, status)
    time.sleep(0.2)
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    bad = [line for line in text.splitlines() if "[error]" in line or "[alert]" in line]
    assert not bad, "%s: nginx logged:\n%s" % (block.where, text)
    if block.output is not None:
        assert got == block.output, block.where


@pytest.mark.parametrize("block", RUNS, ids=_ids(RUNS))
def test_program_block(block, docs_server, redis_port, tmp_path):
    """A program block exits 0 (printing its output block) against the test server."""
    watch = _LogWatch(docs_server)
    source = _with_redis(block, re.sub(r"\b8080\b", str(docs_server.port), block.text), redis_port)
    script = tmp_path / "example.py"
    script.write_text(source)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, "%s exited %d:\n%s%s" % (block.where, proc.returncode, proc.stdout, proc.stderr)
    if block.output is not None:
        assert proc.stdout == block.output, "%s printed:\n%s" % (block.where, proc.stdout)
    time.sleep(0.05)
    watch.assert_clean(block.where)
