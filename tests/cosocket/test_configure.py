"""cosocket.configure: the socket log policy, the error log and the trusted CA of a plain gevent program.

Each case runs a small program in its own process against real sockets on
127.0.0.1 and looks at what it printed.
"""
import subprocess
import sys
import textwrap

import pytest

from tests.support.serverproc import ROOT

PROLOGUE = """
import gevent, socket, sys
from gevent.server import StreamServer
from cosocket import configure, ngx
silent = StreamServer(("127.0.0.1", 0), lambda s, a: gevent.sleep(1))
silent.start()
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    refused = s.getsockname()[1]

def timeout_and_refused():
    sock = ngx.socket.tcp()
    sock.settimeout(20)
    sock.connect("127.0.0.1", silent.server_port)
    print("receive:", sock.receive()[:2])
    print("connect:", ngx.socket.tcp().connect("127.0.0.1", refused))
"""


def run(body: str, tmp_path):
    code = PROLOGUE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=str(tmp_path), env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_by_default_socket_errors_are_logged_in_nginx_words(tmp_path):
    out = run("timeout_and_refused()\n", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "receive: (None, 'timeout')" in out.stdout
    assert "connect: (None, 'connection refused')" in out.stdout
    assert "[error]" in out.stderr and "lua tcp socket read timed out" in out.stderr
    assert "connect() failed (111: Connection refused), when connecting to 127.0.0.1:" in out.stderr


def test_socket_log_errors_off_keeps_the_returns_and_drops_the_lines(tmp_path):
    out = run("configure(lua_socket_log_errors=False)\ntimeout_and_refused()\n", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "receive: (None, 'timeout')" in out.stdout
    assert "connect: (None, 'connection refused')" in out.stdout
    assert out.stderr == ""


def test_error_log_level_and_file(tmp_path):
    out = run("configure(error_log=('stderr', 'crit'))\ntimeout_and_refused()\n"
              "configure(error_log=('client.log', 'error'))\ntimeout_and_refused()\n", tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    text = (tmp_path / "client.log").read_text()
    assert "[error]" in text and "lua tcp socket read timed out" in text


def test_unknown_directive_is_a_type_error(tmp_path):
    out = run("try:\n    configure(lua_socket_bogus=1)\nexcept TypeError as e:\n    print('TypeError', e)\n", tmp_path)
    assert "TypeError configure() got an unknown directive 'lua_socket_bogus'" in out.stdout


def test_trusted_certificate_for_ssl_verify(tmp_path, ca):
    cert = ca.issue_cert("localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    out = run("""
from gevent import ssl
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("server.pem")
tls = StreamServer(("127.0.0.1", 0), lambda s, a: s.recv(1), ssl_context=ctx)
tls.start()

def handshake():
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", tls.server_port)
    session, err = sock.sslhandshake(None, "localhost", True)
    print("handshake:", session is not None, err)

configure(lua_socket_log_errors=False)
handshake()
configure(lua_ssl_trusted_certificate="ca.pem")
handshake()
""", tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["handshake: False 20: unable to get local issuer certificate",
                                       "handshake: True None"]
