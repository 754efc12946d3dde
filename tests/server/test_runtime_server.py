"""The runtime inside the server: pending timers at graceful exit and reload, ngx.get_phase in hooks,
handler paths with variables, `-t` compiling the handler scripts."""
import re
import signal
import subprocess
import sys
import time

from tests.server.conftest import conf
from tests.support.rawhttp import get
from tests.support.serverproc import ROOT, ServerProcess

TIMERS = """
    server {
        listen 127.0.0.1:{port};
        location = /arm { content_by_python timerapp:arm; }
        location = /phases { content_by_python timerapp:phases; }
    }
"""


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met within %.1fs" % timeout)


def timer_lines(log: str) -> list:
    return re.findall(r"timer (\w+) premature: (\w+) exiting: (\w+) phase: (\w+)", log)


def test_pending_timers_run_prematurely_on_quit(start_server):
    srv = start_server(conf(TIMERS))
    assert get(srv.port, "/arm").body == b"pending: 2\n"
    srv.signal(signal.SIGQUIT)
    assert srv.proc.wait(10) == 0
    lines = timer_lines(srv.error_log())
    assert sorted(lines) == [("at", "true", "true", "timer"), ("every", "true", "true", "timer")]
    log = srv.error_log()
    assert log.index("timer at premature") < log.rindex("exit")


def test_pending_timers_run_prematurely_on_reload(start_server):
    srv = start_server(conf(TIMERS))
    old = srv.workers()
    assert get(srv.port, "/arm").body == b"pending: 2\n"
    srv.signal(signal.SIGHUP)
    wait_for(lambda: len(timer_lines(srv.error_log())) == 2)
    wait_for(lambda: not set(old) & set(srv.workers()))
    assert sorted(timer_lines(srv.error_log())) == [("at", "true", "true", "timer"),
                                                    ("every", "true", "true", "timer")]


def test_get_phase_in_init_worker_and_content(start_server):
    srv = start_server(conf(TIMERS, main="init_worker_by_python timerapp:init_worker;"))
    assert get(srv.port, "/phases").body == b"init_worker: init_worker content: content\n"


def test_handler_path_expands_regex_captures_and_variables(start_server, tmp_path):
    scripts = tmp_path / "t"
    scripts.mkdir()
    (scripts / "one.py").write_text("from cosocket import ngx\nngx.say('one ', ngx.var[1])\n")
    (scripts / "two.py").write_text("from cosocket import ngx\nngx.say('two ', ngx.var.uri)\n")
    srv = start_server(conf("""
    server {
        listen 127.0.0.1:{port};
        location ~ ^/t/(\\w+)$ { content_by_python_file t/$1.py; }
        location /by-arg { content_by_python_file %s/${arg_name}.py; }
    }
""" % scripts))
    assert get(srv.port, "/t/one").body == b"one one\n"
    assert get(srv.port, "/t/two").body == b"two /t/two\n"
    assert get(srv.port, "/by-arg?name=two").body == b"two /by-arg\n"
    assert get(srv.port, "/t/none").status == 500
    assert 'failed to load external Python file "%s/t/none.py"' % tmp_path in srv.error_log()


def test_nonlocal_and_global_in_handler_scripts(start_server, tmp_path):
    (tmp_path / "h.py").write_text(
        "from cosocket import ngx\n"
        "n = 0\n"
        "total = 10\n"
        "def bump():\n"
        "    nonlocal n\n"
        "    n += 1\n"
        "def add():\n"
        "    global total\n"
        "    total += n\n"
        "bump()\n"
        "bump()\n"
        "add()\n"
        "ngx.say(n, ' ', total)\n")
    srv = start_server(conf("""
    server {
        listen 127.0.0.1:{port};
        location = /h { content_by_python_file h.py; }
    }
"""))
    for _ in range(2):  # script-level names live for one run: the second request starts afresh
        assert get(srv.port, "/h").body == b"2 12\n"


def test_t_compiles_handler_scripts_and_reports_syntax_errors(tmp_path):
    (tmp_path / "good.py").write_text("from cosocket import ngx\nngx.say('ok')\n")
    (tmp_path / "bad.py").write_text("from cosocket import ngx\n\nif True\n    ngx.say('x')\n")
    body = """
    server {
        listen 127.0.0.1:{port};
        location = /good { content_by_python_file good.py; }
        location ~ ^/v/(\\w+)$ { content_by_python_file $1.py; }
        %s
    }
"""
    ok = ServerProcess(tmp_path, conf(body % ""), wait=False)
    out = subprocess.run(ok.command("-t"), capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    bad = ServerProcess(tmp_path, conf(body % "location = /bad { content_by_python_file bad.py; }"), wait=False)
    out = subprocess.run(bad.command("-t"), capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 1
    text = out.stdout + out.stderr
    assert '[emerg] failed to load external Python file "%s/bad.py": %s/bad.py:3: SyntaxError: ' \
        % (tmp_path, tmp_path) in text
    assert "in %s:" % bad.conf_path in text
    assert "test failed" in text


def test_code_cache_off_reloads_changed_handlers_with_nginx_alert(start_server, tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    (tmp_path / "h.py").write_text("from cosocket import ngx\nngx.say('file v1')\n")
    (tmp_path / "c.py").write_text("from cosocket import ngx\nngx.say('cached v1')\n")
    (mods / "devmod.py").write_text("from cosocket import ngx\ndef main():\n    ngx.say('module v1')\n")
    srv = start_server(conf("""
    server {
        listen 127.0.0.1:{port};
        python_code_cache off;
        location = /file { content_by_python_file h.py; }
        location = /mod { content_by_python devmod:main; }
        location = /cached { python_code_cache on; content_by_python_file c.py; }
    }
""").replace('python_path "', 'python_path "%s/?.py;' % mods))
    line = srv.conf_path.read_text().splitlines().index("        python_code_cache off;") + 1
    assert "[alert] %d#%d: python_code_cache is off; this will hurt performance in %s:%d" \
        % (srv.proc.pid, srv.proc.pid, srv.conf_path, line) in srv.error_log()
    assert get(srv.port, "/file").body == b"file v1\n"
    assert get(srv.port, "/cached").body == b"cached v1\n"
    assert get(srv.port, "/mod").body == b"module v1\n"
    (tmp_path / "h.py").write_text("from cosocket import ngx\nngx.say('file v2 (edited)')\n")
    (mods / "devmod.py").write_text("from cosocket import ngx\ndef main():\n    ngx.say('module v2 (edited)')\n")
    (tmp_path / "c.py").write_text("from cosocket import ngx\nngx.say('cached v2 (edited)')\n")
    assert get(srv.port, "/file").body == b"file v2 (edited)\n"
    assert get(srv.port, "/mod").body == b"module v2 (edited)\n"
    assert get(srv.port, "/cached").body == b"cached v1\n"  # python_code_cache on: compiled once per worker


def test_t_prints_the_code_cache_alert(tmp_path):
    (tmp_path / "h.py").write_text("from cosocket import ngx\n")
    srv = ServerProcess(tmp_path, conf("""
    python_code_cache off;
    server { listen 127.0.0.1:{port}; location = /h { content_by_python_file h.py; } }
"""), wait=False)
    out = subprocess.run(srv.command("-t"), capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0
    assert "[alert] python_code_cache is off; this will hurt performance in %s:" % srv.conf_path in out.stderr
