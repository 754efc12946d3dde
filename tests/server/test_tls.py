"""TLS listeners: certificates, SNI, client certificates and ngx.var.ssl_client_verify."""
import json
import socket
import ssl

import pytest

from tests.server.conftest import conf
from tests.support.rawhttp import Conn

HTTP = """
    client_header_timeout 300ms;
    server {
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {tls}/server.pem;
        ssl_certificate_key {tls}/server.key;
        ssl_client_certificate {tls}/ca.pem;
        ssl_verify_client optional;
        location / { content_by_python srvapp:echo_info; }
    }
    server {
        listen 127.0.0.1:{port} ssl;
        server_name other.example;
        ssl_certificate {tls}/other.pem;
        ssl_certificate_key {tls}/other.key;
        ssl_client_certificate {tls}/ca.pem;
        ssl_verify_client on;
        location / { content_by_python srvapp:echo_info; }
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory, tls_files, ca):
    from tests.support.serverproc import ServerProcess
    other = ca.issue_cert("other.example")
    other.private_key_pem.write_to_path(str(tls_files / "other.key"))
    with open(tls_files / "other.pem", "wb") as f:
        for blob in other.cert_chain_pems:
            f.write(blob.bytes())
    s = ServerProcess(tmp_path_factory.mktemp("tls"), conf(HTTP), fmt={"tls": str(tls_files)})
    s.start()
    yield s
    s.stop()


def tls_conn(srv, tls_files, server_name="localhost", client_cert=False):
    ctx = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    if client_cert:
        ctx.load_cert_chain(str(tls_files / "client.pem"), str(tls_files / "client.key"))
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    sock = ctx.wrap_socket(raw, server_hostname=server_name)
    return Conn(srv.port, sock=sock)


def test_https_request_and_variables(srv, tls_files):
    with tls_conn(srv, tls_files) as c:
        r = c.request("GET", "/x")
        assert r.status == 200
        v = json.loads(r.body)["var"]
        assert v["scheme"] == "https" and v["ssl_server_name"] == "localhost"
        assert v["ssl_client_verify"] == "NONE"
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert c.request("GET", "/again").status == 200  # keep-alive over TLS


def test_client_certificate_verified(srv, tls_files):
    with tls_conn(srv, tls_files, client_cert=True) as c:
        v = json.loads(c.request("GET", "/x").body)["var"]
        assert v["ssl_client_verify"] == "SUCCESS"


def test_sni_picks_the_servers_certificate(srv, tls_files):
    with tls_conn(srv, tls_files, server_name="other.example", client_cert=True) as c:
        names = [v for k, v in c.sock.getpeercert()["subjectAltName"]]
        assert names == ["other.example"]
        r = c.request("GET", "/x", headers={"Host": "other.example"})
        assert json.loads(r.body)["var"]["server_name"] == "other.example"


def test_verify_client_on_without_a_certificate_is_a_400(srv, tls_files):
    with tls_conn(srv, tls_files, server_name="other.example") as c:
        r = c.request("GET", "/x", headers={"Host": "other.example"})
        assert r.status == 400
        assert b"<title>400 No required SSL certificate was sent</title>" in r.body


def test_plain_http_on_a_tls_port_fails_the_handshake(srv):
    with Conn(srv.port) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.is_closed()
    assert "while SSL handshaking" in srv.error_log()


def test_untrusted_client_certificate_is_rejected(srv, tls_files, tmp_path):
    import trustme
    rogue = trustme.CA().issue_cert("client.example")
    rogue.private_key_pem.write_to_path(str(tmp_path / "k.pem"))
    rogue.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    ctx = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    ctx.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            if not s.recv(100):
                raise ConnectionError("closed")
