"""Fixtures for the interop tests: our server and the real peers, each started on a free port.

Peers that are not installed make their tests skip with a message naming the
package; scripts/install-peers.sh (run by ./run-tests) installs them all.
"""
from __future__ import annotations

import os
import re
import shutil
import ssl
import sys
from pathlib import Path

import pytest

from cosocket import runtime

from tests.support import nginxref, peerproc
from tests.support.serverproc import ROOT, ServerProcess, free_port, wait_port

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
NODE_DIR = HERE / "node"
NGINX_DIR = PEERS / "nginx"

INSTALL_HINT = nginxref.INSTALL_HINT


# --- what is installed ---------------------------------------------------------

def missing_node_ws() -> str | None:
    """Why the Node.js `ws` peer cannot run, or None."""
    if shutil.which("node") is None:
        return "Node.js is missing (Debian package nodejs): " + INSTALL_HINT
    if not (NODE_DIR / "node_modules" / "ws" / "package.json").exists():
        return "the Node.js package ws is missing (npm, in tests/interop/node/node_modules): " + INSTALL_HINT
    return None


def missing_nginx_lua() -> str | None:
    """Why the nginx + lua-resty-websocket peer cannot run, or None."""
    return nginxref.missing(websocket=True)


def missing_chromium() -> str | None:
    """Why headless Chromium cannot run, or None."""
    if shutil.which("chromium") is None:
        return "chromium is missing (Debian package chromium): " + INSTALL_HINT
    return None


def require(reason: str | None) -> None:
    """Skip the calling test when `reason` says a peer is missing."""
    if reason:
        pytest.skip(reason)


# --- peer processes ------------------------------------------------------------

class PeerProcess(peerproc.PeerProcess):
    """A peer server in a subprocess, with peers/ on its PYTHONPATH."""

    def __init__(self, name: str, argv: list, port: int, log_dir: Path, cwd: Path | None = None):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(PEERS) + os.pathsep + env.get("PYTHONPATH", "")
        super().__init__(name, argv, port, log_dir, cwd=cwd, env=env)


def start_python_peer(name: str, script: str, log_dir: Path, tls: Path | None) -> PeerProcess:
    """One of the Python echo peers in peers/, plain or TLS."""
    port = free_port()
    argv = [sys.executable, str(PEERS / script), str(port)]
    if tls is not None:
        argv += [str(tls / "server.pem"), str(tls / "server.key")]
    return PeerProcess(name, argv, port, log_dir)


def start_node_peer(log_dir: Path, tls: Path | None) -> PeerProcess:
    """The Node.js `ws` echo server, plain or TLS."""
    port = free_port()
    argv = ["node", str(NODE_DIR / "echo_server.js"), str(port)]
    if tls is not None:
        argv += [str(tls / "server.pem"), str(tls / "server.key")]
    return PeerProcess("node-ws" + ("-tls" if tls else ""), argv, port, log_dir, cwd=NODE_DIR)


def start_nginx_peer(prefix: Path, tls: Path) -> nginxref.NginxRef:
    """nginx + lua-resty-websocket with a plain and a TLS listener (`.ssl_port`)."""
    return nginxref.start_with_tls(prefix, NGINX_DIR / "nginx.conf", here=NGINX_DIR, tls=tls)


# --- our server, serving the shipped conf ---------------------------------------

_LISTEN = re.compile(r"^(\s*)listen\s+127\.0\.0\.1:8080;", re.M)
_HANDLER_PATH = re.compile(r"(content_by_python_file\s+)conf/")


def shipped_conf() -> str:
    """conf/nginx.conf with the port made `{port}`, a TLS listener on `{ssl_port}` added
    (certificates from `{tls}`), and the handler scripts taken from the repository."""
    text = (ROOT / "conf" / "nginx.conf").read_text()
    text, n = _LISTEN.subn(lambda m: "%slisten 127.0.0.1:{port};\n"
                                     "%slisten 127.0.0.1:{ssl_port} ssl;\n"
                                     "%sssl_certificate {tls}/server.pem;\n"
                                     "%sssl_certificate_key {tls}/server.key;"
                                     % ((m.group(1),) * 4), text)
    assert n == 1, "conf/nginx.conf no longer listens on 127.0.0.1:8080: update tests/interop/conftest.py"
    text, n = _HANDLER_PATH.subn(r"\g<1>{root}/conf/", text)
    assert n >= 2, "conf/nginx.conf no longer has the / and /echo handlers: update tests/interop/conftest.py"
    return text


@pytest.fixture(scope="session")
def our_server(tmp_path_factory, tls_files):
    """The shipped configuration served by our server: `.url(path, scheme)` for ws/wss and http/https."""
    prefix = tmp_path_factory.mktemp("our-server")
    ssl_port = free_port()
    srv = ServerProcess(prefix, shipped_conf(), fmt={"ssl_port": ssl_port, "tls": tls_files})
    # the / handler reads conf/html/index.html under the prefix
    (prefix / "conf" / "html").symlink_to(ROOT / "conf" / "html")
    srv.start()
    try:
        wait_port(ssl_port)
    except TimeoutError:
        srv.stop()
        raise RuntimeError("our server's TLS listener did not start:\n" + srv.error_log())
    srv.ssl_port = ssl_port

    def url(path="/echo", scheme="ws"):
        port = ssl_port if scheme in ("wss", "https") else srv.port
        return "%s://127.0.0.1:%d%s" % (scheme, port, path)

    srv.url = url
    yield srv
    srv.stop()


@pytest.fixture
def trusted(tls_files, monkeypatch):
    """Our client verifies the peers' certificates against the test CA (lua_ssl_trusted_certificate)."""
    monkeypatch.setattr(runtime.worker.http_settings.socket, "ssl_trusted_certificate", str(tls_files / "ca.pem"))
    monkeypatch.setattr(runtime.worker.http_settings.socket, "ssl_verify_depth", 2)


def client_ssl_context(scheme, tls_files):
    """An ssl.SSLContext trusting the test CA for wss, None for ws."""
    if scheme != "wss":
        return None
    return ssl.create_default_context(cafile=str(tls_files / "ca.pem"))


@pytest.fixture(params=["ws", "wss"])
def scheme(request):
    """Each exchange runs over plain TCP and over TLS."""
    return request.param
