"""Fixtures of the front-door tests: Debian's nginx with lua-nginx-module and this server, both serving the
same echo handler (nginx.conf, ours.conf) on a plain and a TLS port, started once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import nginxref
from tests.support.serverproc import ServerProcess, free_port

HERE = Path(__file__).resolve().parent
#: client_max_body_size of both servers.
MAX_BODY = 4096


@pytest.fixture(scope="session")
def nginx(tmp_path_factory, tls_files):
    nginxref.require()
    peer = nginxref.start_with_tls(tmp_path_factory.mktemp("nginx"), HERE / "nginx.conf", tls=tls_files,
                                   max_body=MAX_BODY)
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def ours(tmp_path_factory, tls_files):
    ssl_port = free_port()
    srv = ServerProcess(tmp_path_factory.mktemp("ours"), (HERE / "ours.conf").read_text(),
                        fmt={"ssl_port": ssl_port, "tls": tls_files, "max_body": MAX_BODY})
    srv.ssl_port = ssl_port
    srv.start()
    yield srv
    srv.stop()
    # whatever the front-door tests sent, no connection ended in an error of the server itself
    log = srv.error_log()
    assert "unexpected error" not in log and "Traceback" not in log, log[-3000:]


@pytest.fixture(params=["nginx", "ours"])
def server(request):
    """Each case runs against both servers."""
    return request.getfixturevalue(request.param)
