"""cosocket.server.cli: nginx's command line (-t -T -q -s -g -p -c -v -h), in-process and as `python -m cosocket`."""
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

import cosocket.server
from cosocket.server import cli

ROOT = Path(__file__).resolve().parents[2]
GOOD = "worker_processes 1;\nevents { }\nhttp { server { listen 127.0.0.1:8080; location / { return 200; } } }\n"


def make_prefix(tmp_path, text=GOOD):
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "logs").mkdir(exist_ok=True)
    (tmp_path / "conf" / "nginx.conf").write_text(text)
    return tmp_path


def run_module(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "cosocket", *args], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=20)


def test_t_success_as_a_subprocess(tmp_path):
    prefix = make_prefix(tmp_path)
    conf_file = prefix / "conf" / "nginx.conf"
    res = run_module("-p", str(prefix), "-t", cwd=tmp_path)
    assert res.returncode == 0
    assert res.stderr == ("cosocket-server: the configuration file %s syntax is ok\n"
                          "cosocket-server: configuration file %s test is successful\n" % (conf_file, conf_file))
    assert res.stdout == ""


def test_t_failure_as_a_subprocess(tmp_path):
    prefix = make_prefix(tmp_path, "worker_processes 1;\nbogus on;\n")
    conf_file = prefix / "conf" / "nginx.conf"
    res = run_module("-p", str(prefix), "-c", "conf/nginx.conf", "-t", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr == ('cosocket-server: [emerg] unknown directive "bogus" in %s:2\n'
                          "cosocket-server: configuration file %s test failed\n" % (conf_file, conf_file))


def test_defaults_prefix_is_cwd_and_conf_is_conf_nginx_conf(tmp_path):
    prefix = make_prefix(tmp_path)
    res = run_module("-t", cwd=prefix)
    assert res.returncode == 0
    assert str(prefix / "conf" / "nginx.conf") in res.stderr


def test_quiet_test_prints_nothing(tmp_path, capsys):
    prefix = make_prefix(tmp_path)
    assert cli.main(["-tq", "-p", str(prefix)]) == 0
    assert capsys.readouterr().err == ""


def test_quiet_test_still_reports_errors(tmp_path, capsys):
    prefix = make_prefix(tmp_path, "daemon;")
    assert cli.main(["-q", "-t", "-p", str(prefix)]) == 1
    assert "[emerg] invalid number of arguments" in capsys.readouterr().err


def test_dump_prints_every_file(tmp_path, capsys):
    prefix = make_prefix(tmp_path, "include extra.conf;\n")
    (prefix / "conf" / "extra.conf").write_text("daemon off;\n")
    assert cli.main(["-T", "-p" + str(prefix)]) == 0
    out = capsys.readouterr().out
    assert out == ("# configuration file %s:\ninclude extra.conf;\n\n# configuration file %s:\ndaemon off;\n\n"
                   % (prefix / "conf" / "nginx.conf", prefix / "conf" / "extra.conf"))


def test_missing_conf_file(tmp_path, capsys):
    assert cli.main(["-t", "-p", str(tmp_path), "-c", "nope.conf"]) == 1
    path = tmp_path / "nope.conf"
    assert capsys.readouterr().err == (
        'cosocket-server: [emerg] open() "%s" failed (2: No such file or directory)\n'
        "cosocket-server: configuration file %s test failed\n" % (path, path))


def test_g_directives_are_applied_and_checked(tmp_path, capsys):
    prefix = make_prefix(tmp_path)
    assert cli.main(["-t", "-p", str(prefix), "-g", "daemon off; worker_processes 2;"]) == 1
    err = capsys.readouterr().err
    assert '[emerg] "worker_processes" directive is duplicate in %s:1' % (prefix / "conf" / "nginx.conf") in err
    assert cli.main(["-t", "-p", str(prefix), "-g", "daemon off"]) == 1
    assert 'unexpected end of parameter, expecting ";" in command line' in capsys.readouterr().err
    assert cli.main(["-t", "-p", str(prefix), "-g", "daemon off;"]) == 0


def test_signal_with_missing_pid_file(tmp_path, capsys):
    prefix = make_prefix(tmp_path)
    assert cli.main(["-p", str(prefix), "-s", "reload"]) == 1
    assert capsys.readouterr().err == (
        'cosocket-server: [error] open() "%s" failed (2: No such file or directory)\n'
        % (prefix / "logs" / "nginx.pid"))


@pytest.mark.parametrize("content, shown", [(b"", ""), (b"abc\n", "abc"), (b"12x\n", "12x")])
def test_signal_with_bad_pid_file(tmp_path, capsys, content, shown):
    prefix = make_prefix(tmp_path, GOOD + "pid run.pid;\n")
    (prefix / "run.pid").write_bytes(content)
    assert cli.main(["-p", str(prefix), "-s", "stop"]) == 1
    assert capsys.readouterr().err == (
        'cosocket-server: [error] invalid PID number "%s" in "%s"\n' % (shown, prefix / "run.pid"))


def test_signal_to_a_dead_pid(tmp_path, capsys):
    prefix = make_prefix(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (prefix / "logs" / "nginx.pid").write_text("%d\n" % child.pid)
    assert cli.main(["-p", str(prefix), "-s", "reopen"]) == 1
    assert capsys.readouterr().err == (
        "cosocket-server: [alert] kill(%d, %d) failed (3: No such process)\n" % (child.pid, signal.SIGUSR1))


@pytest.mark.parametrize("name, signo", [("reload", signal.SIGHUP), ("quit", signal.SIGQUIT),
                                         ("stop", signal.SIGTERM), ("reopen", signal.SIGUSR1)])
def test_signal_reaches_the_pid_in_the_pid_file(tmp_path, name, signo):
    prefix = make_prefix(tmp_path)
    code = ("import signal, sys, time\n"
            "signal.signal(%d, lambda *a: sys.exit(42))\n"
            "print('ready', flush=True)\n"
            "time.sleep(5)\n" % signo)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        (prefix / "logs" / "nginx.pid").write_text("%d\n" % child.pid)
        res = run_module("-p", str(prefix), "-s", name, cwd=tmp_path)
        assert (res.returncode, res.stderr) == (0, "")
        assert child.wait(timeout=5) == 42
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_signal_with_bad_conf_reports_it(tmp_path, capsys):
    prefix = make_prefix(tmp_path, "bogus;")
    assert cli.main(["-p", str(prefix), "-s", "stop"]) == 1
    assert capsys.readouterr().err == 'cosocket-server: [emerg] unknown directive "bogus" in %s:1\n' % (
        prefix / "conf" / "nginx.conf")


@pytest.mark.parametrize("argv, msg", [
    (["-s", "restart"], 'invalid option: "-s restart"'),
    (["-s"], 'option "-s" requires parameter'),
    (["-p"], 'option "-p" requires directory name'),
    (["-c"], 'option "-c" requires file name'),
    (["-g"], 'option "-g" requires parameter'),
    (["-x"], 'invalid option: "x"'),
    (["-tx"], 'invalid option: "x"'),
    (["serve"], 'invalid option: "serve"'),
])
def test_usage_errors(capsys, argv, msg):
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == "cosocket-server: %s\n" % msg


def test_version_and_help(capsys):
    assert cli.main(["-v"]) == 0
    assert capsys.readouterr().err == "cosocket-server version: cosocket/%s\n" % cosocket.__version__
    assert cli.main(["-h"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("cosocket-server version: ") and "Usage: cosocket-server [-?hvVtTq]" in err
    assert "-s signal     : send signal to a master process: stop, quit, reopen, reload" in err
    assert cli.main(["-V"]) == 0
    assert "built with Python" in capsys.readouterr().err


def test_version_with_test_goes_on_to_test(tmp_path, capsys):
    prefix = make_prefix(tmp_path)
    assert cli.main(["-v", "-t", "-p", str(prefix)]) == 0
    err = capsys.readouterr().err
    assert "version" in err and "test is successful" in err


def test_serving_hands_over_to_master(tmp_path, monkeypatch):
    calls = []
    fake = types.ModuleType("cosocket.server.master")
    fake.serve = lambda prefix, conf_file, extra: calls.append((prefix, conf_file, extra)) or 7
    monkeypatch.setitem(sys.modules, "cosocket.server.master", fake)
    monkeypatch.setattr(cosocket.server, "master", fake, raising=False)
    assert cli.main(["-p", str(tmp_path), "-c", "my.conf", "-g", "daemon off;"]) == 7
    assert calls == [(str(tmp_path), str(tmp_path / "my.conf"), "daemon off;")]


def test_t_opens_the_log_files_like_nginx(tmp_path, capsys):
    prefix = make_prefix(tmp_path, GOOD + "error_log logs/e.log info;\n")
    assert cli.main(["-q", "-t", "-p", str(prefix)]) == 0
    assert (prefix / "logs" / "e.log").exists() and (prefix / "logs" / "access.log").exists()
    prefix = make_prefix(tmp_path, GOOD + "error_log nodir/e.log;\n")
    assert cli.main(["-t", "-p", str(prefix)]) == 1
    assert capsys.readouterr().err.startswith(
        'cosocket-server: [emerg] open() "%s" failed (2: No such file or directory)\n'
        % (prefix / "nodir" / "e.log"))
