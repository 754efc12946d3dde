"""Fixtures shared by every test package."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def start_server(tmp_path):
    """start_server(conf_text, **kw) -> a started ServerProcess, stopped at the end of the test."""
    from tests.support.serverproc import ServerProcess

    servers = []

    def start(text, **kw):
        srv = ServerProcess(tmp_path, text, **kw)
        servers.append(srv)
        return srv.start()

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture(scope="session")
def ca():
    """A throw-away certificate authority (trustme) for TLS tests."""
    import trustme  # in the test extra
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca):
    """A leaf certificate for localhost / 127.0.0.1 / test.example signed by `ca`."""
    return ca.issue_cert("localhost", "127.0.0.1", "test.example", "*.test.example")


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory, ca, server_cert):
    """PEM files on disk: ca.pem, server.pem (chain), server.key, client.pem, client.key."""
    d = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    server_cert.private_key_pem.write_to_path(str(d / "server.key"))
    with open(d / "server.pem", "wb") as f:
        for blob in server_cert.cert_chain_pems:
            f.write(blob.bytes())
    client = ca.issue_cert("client.example")
    client.private_key_pem.write_to_path(str(d / "client.key"))
    with open(d / "client.pem", "wb") as f:
        for blob in client.cert_chain_pems:
            f.write(blob.bytes())
    return d
