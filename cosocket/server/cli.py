"""The `cosocket-server` command (also `python -m cosocket`), nginx's command line.

    cosocket-server [-?hvVtTq] [-s signal] [-p prefix] [-c filename] [-g directives]

Options are read as nginx reads them: letters may be grouped (`-tq`), and a
value may follow its letter directly (`-p/srv`) or as the next argument.
Messages are nginx's, with our program name where nginx prints "nginx".
"""
from __future__ import annotations

import os
import signal
import sys
from typing import List, Optional

from . import conf

PROG = "cosocket-server"
SIGNALS = {"stop": signal.SIGTERM, "quit": signal.SIGQUIT, "reload": signal.SIGHUP, "reopen": signal.SIGUSR1}

USAGE = """\
Usage: {prog} [-?hvVtTq] [-s signal] [-p prefix]
             [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: current directory)
  -c filename   : set configuration file (default: conf/nginx.conf)
  -g directives : set global directives out of configuration file

"""


class _UsageError(Exception):
    pass


class Options:
    """What the command line asked for."""

    def __init__(self) -> None:
        self.help = False
        self.version = False
        self.configure = False
        self.test = False
        self.dump = False
        self.quiet = False
        self.signal: Optional[str] = None
        self.prefix: Optional[str] = None
        self.conf_file: Optional[str] = None
        self.directives = ""


def parse_args(argv: List[str]) -> Options:
    """nginx's ngx_get_options; raises _UsageError with nginx's message."""
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            raise _UsageError('invalid option: "%s"' % arg)
        j = 1
        while j < len(arg):
            letter = arg[j]
            j += 1
            if letter in "?h":
                opts.version = opts.help = True
            elif letter == "v":
                opts.version = True
            elif letter == "V":
                opts.version = opts.configure = True
            elif letter == "t":
                opts.test = True
            elif letter == "T":
                opts.test = opts.dump = True
            elif letter == "q":
                opts.quiet = True
            elif letter in "pcgs":
                if j < len(arg):
                    value = arg[j:]
                elif i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                else:
                    raise _UsageError('option "-%s" requires %s' % (
                        letter, {"p": "directory name", "c": "file name"}.get(letter, "parameter")))
                if letter == "p":
                    opts.prefix = value
                elif letter == "c":
                    opts.conf_file = value
                elif letter == "g":
                    opts.directives = value
                else:
                    if value not in SIGNALS:
                        raise _UsageError('invalid option: "-s %s"' % value)
                    opts.signal = value
                break
            else:
                raise _UsageError('invalid option: "%s"' % letter)
        i += 1
    return opts


def _say(msg: str) -> None:
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.stderr.flush()


def _show_version(opts: Options) -> None:
    from .. import __version__
    sys.stderr.write("%s version: cosocket/%s\n" % (PROG, __version__))
    if opts.help:
        sys.stderr.write(USAGE.format(prog=PROG))
    if opts.configure:
        sys.stderr.write("built with Python %s\n" % sys.version.split()[0])
        sys.stderr.write("configure arguments: (none; a pure-Python server on gevent)\n")
    sys.stderr.flush()


def _log_files(main_conf) -> List[str]:
    """Every error and access log file the configuration writes to (nginx -t opens them all)."""
    paths = [e.path for e in main_conf.error_log if e.path != "stderr"]
    http = main_conf.http
    levels = [http.settings] + [s.settings for s in http.servers] + [
        loc.settings for s in http.servers for loc in s.locations]
    for settings in levels:
        if settings.access_log is None:
            if http.servers:
                paths.append(os.path.join(main_conf.prefix, "logs", "access.log"))
        else:
            paths.extend(a.path for a in settings.access_log)
    return list(dict.fromkeys(paths))


def _open_logs(main_conf) -> Optional[str]:
    """Open (creating, as nginx does) every log file; the first failure as nginx words it, or None."""
    for path in _log_files(main_conf):
        try:
            with open(path, "a"):
                pass
        except OSError as e:
            return 'open() "%s" failed (%d: %s)' % (path, e.errno or 0, os.strerror(e.errno or 0))
    return None


def _compile_scripts(main_conf) -> Optional[str]:
    """Compile the handler scripts as -t does (with python_path applied, as a worker would)."""
    from . import handlers
    handlers.apply_python_path(main_conf.python_path, main_conf.prefix)
    return handlers.check_scripts(main_conf)


def _test(opts: Options, prefix: str, conf_file: str) -> int:
    dump: list = []
    try:
        main_conf = conf.load(conf_file, prefix, opts.directives, dump=dump)
        failure = _open_logs(main_conf) or _compile_scripts(main_conf)
    except conf.ConfError as e:
        failure = str(e)
    if failure is not None:
        _say("[emerg] %s" % failure)
        _say("configuration file %s test failed" % conf_file)
        return 1
    for alert in main_conf.alerts:
        _say("[alert] %s" % alert)
    if not opts.quiet:
        _say("the configuration file %s syntax is ok" % conf_file)
        _say("configuration file %s test is successful" % conf_file)
    if opts.dump:
        out = sys.stdout
        for path, text in dump:
            out.write("# configuration file %s:\n%s\n" % (path, text))
        out.flush()
    return 0


def send_signal(pid_file: str, name: str) -> int:
    """`-s name`: read the master's pid from `pid_file` and signal it; nginx's messages on failure."""
    try:
        with open(pid_file, "rb") as f:
            data = f.read(22)
    except OSError as e:
        _say('[error] open() "%s" failed (%d: %s)' % (pid_file, e.errno or 0, os.strerror(e.errno or 0)))
        return 1
    text = data.rstrip(b"\r\n")
    try:
        if not text.isdigit():
            raise ValueError
        pid = int(text)
    except ValueError:
        _say('[error] invalid PID number "%s" in "%s"' % (text.decode("latin-1"), pid_file))
        return 1
    signo = SIGNALS[name]
    try:
        os.kill(pid, signo)
    except OSError as e:
        _say("[alert] kill(%d, %d) failed (%d: %s)" % (pid, signo, e.errno or 0, os.strerror(e.errno or 0)))
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the process exit status."""
    if argv is None:
        argv = sys.argv[1:]
    try:
        opts = parse_args(list(argv))
    except _UsageError as e:
        _say(str(e))
        return 1
    if opts.version:
        _show_version(opts)
        if not opts.test:
            return 0
    prefix = os.path.abspath(opts.prefix if opts.prefix is not None else os.getcwd())
    conf_file = os.path.normpath(os.path.join(prefix, opts.conf_file or "conf/nginx.conf"))
    if opts.test:
        return _test(opts, prefix, conf_file)
    if opts.signal:
        try:
            main_conf = conf.load(conf_file, prefix, opts.directives)
        except conf.ConfError as e:
            _say("[emerg] %s" % e)
            return 1
        return send_signal(main_conf.pid, opts.signal)
    from . import master  # written separately; imported late so -t and -s work without it
    return master.serve(prefix, conf_file, opts.directives)
