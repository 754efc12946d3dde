"""The master process: loads the conf, binds every listener, forks and watches the workers.

Signals are nginx's.  The master blocks them and takes them one at a time
with `sigtimedwait`, which also tells who sent them, so the log reads as
nginx's ("signal 1 (SIGHUP) received from 4242, reconfiguring"):

* SIGHUP: re-read the conf; on success start new workers (listening sockets
  whose address did not change are kept, fd for fd, so no connection is
  refused), then tell the old ones to drain (SIGUSR2: a graceful exit like
  SIGQUIT's, but the worker knows it is retired by a reload, not stopped, so
  `worker.on_stopping` hooks such as the WebSocket "going away" do not run);
  on a bad conf log it at emerg and keep the old workers.
* SIGQUIT: workers drain, then the master exits.
* SIGTERM / SIGINT: workers exit now (SIGKILL after a second).
* SIGUSR1: reopen the logs here and in every worker.
* SIGCHLD: reap; a worker of the current generation that died is replaced.

The master never runs handlers.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import time
from typing import Dict, List, Optional, Tuple

from .. import __version__, log
from . import broker

_SIGNAMES = {
    signal.SIGHUP: "SIGHUP", signal.SIGQUIT: "SIGQUIT", signal.SIGTERM: "SIGTERM",
    signal.SIGINT: "SIGINT", signal.SIGUSR1: "SIGUSR1", signal.SIGUSR2: "SIGUSR2",
    signal.SIGCHLD: "SIGCHLD", signal.SIGWINCH: "SIGWINCH", signal.SIGPIPE: "SIGPIPE",
}
_ACTIONS = {
    signal.SIGHUP: ", reconfiguring", signal.SIGQUIT: ", shutting down", signal.SIGTERM: ", exiting",
    signal.SIGINT: ", exiting", signal.SIGUSR1: ", reopening logs",
}
#: What the master sends the old workers after a reload: drain as on SIGQUIT, but "retired", not "stopped".
RETIRE_SIGNAL = signal.SIGUSR2

_HANDLED = (signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM, signal.SIGINT, signal.SIGUSR1,
            signal.SIGCHLD, signal.SIGUSR2, signal.SIGWINCH)

PROGRAM = "cosocket-server"


class StartupError(Exception):
    """A failure while binding or preparing listeners; the text is nginx's emerg message."""


# ---------------------------------------------------------------------------
# listening sockets

def _bind(lc) -> socket.socket:
    if lc.unix is not None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if os.path.exists(lc.unix):
                os.unlink(lc.unix)  # nginx removes a stale socket file too
            sock.bind(lc.unix)
        except OSError as exc:
            sock.close()
            raise StartupError('bind() to unix:%s failed (%d: %s)' % (lc.unix, exc.errno, exc.strerror)) from None
    else:
        host = lc.host or "0.0.0.0"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if lc.reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            try:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            except OSError:
                pass
        try:
            sock.bind((host, lc.port))
        except OSError as exc:
            sock.close()
            raise StartupError("bind() to %s failed (%d: %s)" % (lc.key, exc.errno, exc.strerror)) from None
    sock.listen(lc.backlog if lc.backlog > 0 else 511)
    sock.setblocking(False)
    return sock


def listen_groups(main_conf) -> Dict[str, Tuple[object, list]]:
    """listen key -> (the first ListenConf with that key, the servers listening there)."""
    groups: Dict[str, Tuple[object, list]] = {}
    for server in main_conf.http.servers:
        for lc in server.listens:
            entry = groups.get(lc.key)
            if entry is None:
                groups[lc.key] = (lc, [server])
            elif server not in entry[1]:
                entry[1].append(server)
            if lc.ssl and entry is not None and not entry[0].ssl:
                entry[0].ssl = True
    return groups


def _ssl_contexts(lc, servers) -> Dict[int, object]:
    """SSLContexts per server on an `ssl` listener; SNI switches to the named server's context."""
    import gevent.ssl as gssl
    from .. import sslverify
    from .handlers import VirtualHosts

    contexts: Dict[int, object] = {}
    vhosts = VirtualHosts(servers)
    for server in servers:
        for other in server.listens:
            if other.key == lc.key and other.default_server:
                vhosts.set_default(server)
    versions = {"TLSv1": gssl.TLSVersion.TLSv1, "TLSv1.1": gssl.TLSVersion.TLSv1_1,
                "TLSv1.2": gssl.TLSVersion.TLSv1_2, "TLSv1.3": gssl.TLSVersion.TLSv1_3}

    def sni(sslsock, server_name, _ctx):
        if server_name:
            try:
                sslsock._cosocket_sni = server_name
            except AttributeError:
                pass
            ctx = contexts.get(id(vhosts.find(server_name.lower())))
            if ctx is not None and ctx is not _ctx:
                sslsock.context = ctx
                sslverify.follow_context(sslsock, ctx)
        return None

    for server in servers:
        conf = server.ssl
        if not conf.certificate:
            continue
        ctx = gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER)
        wanted = [versions[p] for p in conf.protocols if p in versions] or [gssl.TLSVersion.TLSv1_2,
                                                                           gssl.TLSVersion.TLSv1_3]
        ctx.minimum_version = min(wanted)
        ctx.maximum_version = max(wanted)
        try:
            ctx.load_cert_chain(conf.certificate, conf.certificate_key or conf.certificate)
        except (OSError, gssl.SSLError) as exc:
            raise StartupError('cannot load certificate "%s": %s' % (conf.certificate, exc)) from None
        if conf.verify_client != "off":
            ctx.verify_mode = gssl.CERT_OPTIONAL
            if conf.client_certificate:
                try:
                    ctx.load_verify_locations(conf.client_certificate)
                except (OSError, gssl.SSLError) as exc:
                    raise StartupError('SSL_CTX_load_verify_locations("%s") failed: %s'
                                       % (conf.client_certificate, exc)) from None
            # as nginx: the handshake completes, the request sees $ssl_client_verify FAILED:...
            if not sslverify.accept_any_client_certificate(ctx):
                log.error(log.WARN, "cannot install the client certificate verify callback: an untrusted "
                          "client certificate fails the handshake")
        ctx.sni_callback = sni
        contexts[id(server)] = ctx
    return contexts


class ListenSet:
    """The bound sockets by listen key (reuseport listeners: one socket per worker)."""

    def __init__(self) -> None:
        self.sockets: Dict[str, List[socket.socket]] = {}
        self.signatures: Dict[str, tuple] = {}

    def update(self, main_conf, workers: int) -> "ListenSet":
        """A ListenSet for `main_conf`, reusing this set's sockets whose address is unchanged."""
        new = ListenSet()
        try:
            for key, (lc, _servers) in listen_groups(main_conf).items():
                count = workers if lc.reuseport else 1
                sig = (lc.reuseport, count)
                old = self.sockets.get(key)
                if old is not None and self.signatures.get(key)[0] == lc.reuseport:
                    socks = list(old[:count])
                    while len(socks) < count:
                        socks.append(_bind(lc))
                else:
                    socks = [_bind(lc) for _ in range(count)]
                new.sockets[key] = socks
                new.signatures[key] = sig
        except BaseException:
            new.close_except(self)
            raise
        return new

    def fds(self) -> List[int]:
        """The file descriptors of every socket in this set."""
        return [s.fileno() for socks in self.sockets.values() for s in socks]

    def close_except(self, keep: "ListenSet") -> None:
        """Close the sockets of this set that `keep` does not hold."""
        kept = {id(s) for socks in keep.sockets.values() for s in socks}
        for socks in self.sockets.values():
            for s in socks:
                if id(s) not in kept:
                    s.close()

    def close_except_sockets(self, keep: list) -> None:
        """Close this set's sockets but those in `keep` (a worker after fork: all but its own)."""
        kept = {id(s) for s in keep}
        for socks in self.sockets.values():
            for s in socks:
                if id(s) not in kept:
                    s.close()

    def listeners_for(self, main_conf, worker_index: int, ssl_by_key: Dict[str, dict]) -> list:
        from .worker import Listener
        out = []
        for key, (lc, servers) in listen_groups(main_conf).items():
            socks = self.sockets[key]
            out.append(Listener(lc, socks[worker_index % len(socks)], servers, ssl_by_key.get(key)))
        return out


# ---------------------------------------------------------------------------
# the master

class Generation:
    """One configuration and the workers started for it."""

    def __init__(self, main_conf, ssl_by_key: Dict[str, dict]):
        self.main_conf = main_conf
        self.ssl_by_key = ssl_by_key


class Master:
    """The master process's loop."""

    def __init__(self, main_conf, listen_set: ListenSet, ssl_by_key: Dict[str, dict]):
        self.generation = Generation(main_conf, ssl_by_key)
        self.listen_set = listen_set
        self.workers: Dict[int, Tuple[int, Generation]] = {}  # pid -> (worker id, generation)
        self.state = "running"  # running | quitting | terminating
        self.term_deadline = 0.0
        self.killed = False
        self.init_failures = 0  # current workers whose init_worker_by_python failed
        self.broker = broker.BrokerProcess()  # the embedded channels broker, when the conf enables it

    # -- workers ---------------------------------------------------------------
    def spawn(self, worker_id: int, gen: Generation) -> Optional[int]:
        from .worker import worker_main

        count = gen.main_conf.worker_processes
        listeners = self.listen_set.listeners_for(gen.main_conf, worker_id, gen.ssl_by_key)
        try:
            pid = os.fork()
        except OSError as exc:
            log.error(log.ALERT, "fork() failed while spawning \"worker process\" (%d: %s)"
                      % (exc.errno, exc.strerror))
            return None
        if pid == 0:
            for sig in _HANDLED:
                signal.signal(sig, signal.SIG_DFL)
            # the other workers' reuseport sockets: not held here, so that their owners' close ends them
            self.listen_set.close_except_sockets([lst.sock for lst in listeners])
            worker_main(gen.main_conf, listeners, worker_id, count)
            os._exit(0)  # not reached
        log.error(log.NOTICE, "start worker process %d" % pid)
        self.workers[pid] = (worker_id, gen)
        return pid

    def start_workers(self, gen: Generation) -> None:
        log.error(log.NOTICE, "start worker processes")
        for worker_id in range(gen.main_conf.worker_processes):
            self.spawn(worker_id, gen)

    def signal_workers(self, sig: int, gen: Optional[Generation] = None) -> None:
        for pid, (_wid, wgen) in list(self.workers.items()):
            if gen is None or wgen is gen:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass

    def reap(self) -> None:
        from .worker import EXIT_INIT_FAILED

        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.broker.reaped(pid, status, self.state == "running"):
                continue
            entry = self.workers.pop(pid, None)
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                core = " (core dumped)" if os.WCOREDUMP(status) else ""
                log.error(log.ALERT, "worker process %d exited on signal %d%s" % (pid, sig, core))
                unexpected = True
            else:
                code = os.WEXITSTATUS(status)
                if code == 2:
                    log.error(log.ALERT, "worker process %d exited with fatal code 2 and cannot be respawned"
                              % pid)
                elif code == EXIT_INIT_FAILED:
                    log.error(log.ALERT, "worker process %d exited: init_worker_by_python failed" % pid)
                    code = 2  # not respawned: it would fail again
                    if entry is not None and entry[1] is self.generation:
                        self.init_failures += 1
                else:
                    log.error(log.NOTICE, "worker process %d exited with code %d" % (pid, code))
                unexpected = code != 0 and code != 2
                if entry is not None and code == 0 and entry[1] is self.generation and self.state == "running":
                    unexpected = True  # a current worker should not exit on its own
            if entry is None:
                continue
            worker_id, gen = entry
            if unexpected and gen is self.generation and self.state == "running":
                self.spawn(worker_id, gen)

    # -- reload --------------------------------------------------------------------
    def reload(self) -> None:
        from . import conf

        log.error(log.NOTICE, "reconfiguring")
        old_conf = self.generation.main_conf
        try:
            new_conf = conf.load(old_conf.conf_file, old_conf.prefix, getattr(self, "extra", ""))
        except conf.ConfError as exc:
            log.error(log.EMERG, str(exc))
            return
        try:
            ssl_by_key = build_ssl(new_conf)
            new_listen = self.listen_set.update(new_conf, new_conf.worker_processes)
        except StartupError as exc:
            log.error(log.EMERG, str(exc))
            return
        try:
            configure_error_log(new_conf)
        except StartupError as exc:
            log.error(log.EMERG, str(exc))  # the old targets stay open
        for alert in new_conf.alerts:
            log.error(log.ALERT, alert)
        handlers_reset()
        shared_zones_reset(new_conf)
        from .worker import _call_init, setup_process
        setup_process(new_conf, None, new_conf.worker_processes)
        if new_conf.init_by_python:  # nginx runs init_by_lua* again on every reload
            _call_init(new_conf.init_by_python, "init_by_python")
        old_set = self.listen_set
        self.listen_set = new_listen
        old_gen = self.generation
        self.generation = Generation(new_conf, ssl_by_key)
        self.broker.ensure(new_conf, old_set.fds() + new_listen.fds())
        self.start_workers(self.generation)
        self.signal_workers(RETIRE_SIGNAL, old_gen)
        old_set.close_except(new_listen)
        if old_conf.pid != new_conf.pid:
            write_pid(new_conf.pid)
            remove_pid(old_conf.pid)

    # -- main loop -----------------------------------------------------------------
    def run(self) -> int:
        self.broker.ensure(self.generation.main_conf, self.listen_set.fds())
        self.start_workers(self.generation)
        while True:
            if self.state != "running" and not self.workers:
                break
            if self.state == "running" and self.init_failures and not self.workers:
                # every worker failed its init_worker_by_python: nothing serves, stop as a failed start
                log.error(log.EMERG, "init_worker_by_python failed in every worker process")
                remove_pid(self.generation.main_conf.pid)
                return 1
            info = signal.sigtimedwait(_HANDLED, 0.2)
            if info is None:
                self._tick()
                continue
            self._handle(info.si_signo, info.si_pid)
        self.broker.stop()
        log.error(log.NOTICE, "exit")
        remove_pid(self.generation.main_conf.pid)
        return 0

    def _tick(self) -> None:
        if self.state == "terminating" and not self.killed and time.monotonic() > self.term_deadline:
            self.killed = True
            self.signal_workers(signal.SIGKILL)
        self.reap()

    def _handle(self, signo: int, sender: int) -> None:
        name = _SIGNAMES.get(signo, str(signo))
        log.error(log.NOTICE, "signal %d (%s) received from %d%s" % (signo, name, sender, _ACTIONS.get(signo, "")))
        if signo == signal.SIGCHLD:
            self.reap()
        elif signo == signal.SIGHUP:
            if self.state == "running":
                self.reload()
        elif signo == signal.SIGQUIT:
            if self.state == "running":
                self.state = "quitting"
                self.close_listeners()
                self.signal_workers(signal.SIGQUIT)
        elif signo in (signal.SIGTERM, signal.SIGINT):
            if self.state != "terminating":
                self.state = "terminating"
                self.term_deadline = time.monotonic() + 1.0
                self.close_listeners()
                self.signal_workers(signal.SIGTERM)
        elif signo == signal.SIGUSR1:
            log.error(log.NOTICE, "reopening logs")
            log.reopen()
            self.signal_workers(signal.SIGUSR1)

    def close_listeners(self) -> None:
        self.listen_set.close_except(ListenSet())
        for lc, _servers in listen_groups(self.generation.main_conf).values():
            if lc.unix is not None and not self.workers:
                try:
                    os.unlink(lc.unix)
                except OSError:
                    pass


# ---------------------------------------------------------------------------
# start-up helpers

def handlers_reset() -> None:
    """Forget compiled scripts and imported handler functions, so new workers load the current files."""
    from . import handlers
    handlers.forget_loaded()


def shared_zones_reset(main_conf) -> None:
    """The new generation's `lua_shared_dict` zones: same name and size keeps the zone and its data."""
    from .shared import setup_shared
    setup_shared(main_conf.http.shared_dicts)


def build_ssl(main_conf) -> Dict[str, dict]:
    """listen key -> {id(ServerConf): SSLContext} for every `ssl` listener."""
    out: Dict[str, dict] = {}
    for key, (lc, servers) in listen_groups(main_conf).items():
        if lc.ssl:
            out[key] = _ssl_contexts(lc, servers)
    return out


def configure_error_log(main_conf) -> None:
    targets = [(e.path, e.level) for e in main_conf.error_log]
    if not targets:
        targets = [(os.path.join(main_conf.prefix, "logs", "error.log"), "error")]
    try:
        log.configure(targets)
    except OSError as exc:
        raise StartupError('open() "%s" failed (%d: %s)' % (exc.filename, exc.errno, exc.strerror)) from None


def write_pid(path: str) -> None:
    if not path:
        return
    try:
        with open(path, "w") as f:
            f.write("%d\n" % os.getpid())
    except OSError as exc:
        log.error(log.EMERG, 'open() "%s" failed (%d: %s)' % (path, exc.errno, exc.strerror))


def remove_pid(path: str) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def _daemonize() -> bool:
    """Detach like nginx's ngx_daemon; True in the daemon, False in the parent (which should exit)."""
    pid = os.fork()
    if pid:
        return False
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    os.dup2(fd, 0)
    os.dup2(fd, 1)
    if fd > 2:
        os.close(fd)
    return True


def _emerg(msg: str) -> int:
    sys.stderr.write("%s: [emerg] %s\n" % (PROGRAM, msg))
    sys.stderr.flush()
    log.error(log.EMERG, msg)
    return 1


def serve(prefix: str, conf_file: str, extra_directives: str = "") -> int:
    """Run the server: conf, error log, init_by_python, listeners, daemon, pid file, workers."""
    from . import conf
    from .worker import setup_process, _call_init

    try:
        main_conf = conf.load(conf_file, prefix, extra_directives)
    except conf.ConfError as exc:
        return _emerg(str(exc))
    try:
        configure_error_log(main_conf)
    except StartupError as exc:
        return _emerg(str(exc))
    for alert in main_conf.alerts:  # nginx prints its conf-time alerts on the console and in the log
        sys.stderr.write("%s: [alert] %s\n" % (PROGRAM, alert))
        log.error(log.ALERT, alert)
    try:
        os.chdir(main_conf.prefix)
    except OSError:
        pass
    log.error(log.NOTICE, "cosocket/%s" % __version__)
    setup_process(main_conf, None, main_conf.worker_processes)
    if main_conf.init_by_python and not _call_init(main_conf.init_by_python, "init_by_python"):
        return 1  # as nginx with a failing init_by_lua*: the error is in the log, nothing starts
    try:
        listen_set = ListenSet().update(main_conf, main_conf.worker_processes)
        ssl_by_key = build_ssl(main_conf)
    except StartupError as exc:
        return _emerg(str(exc))
    if main_conf.daemon and not _daemonize():
        return 0
    signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
    write_pid(main_conf.pid)
    master = Master(main_conf, listen_set, ssl_by_key)
    master.extra = extra_directives
    try:
        return master.run()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
