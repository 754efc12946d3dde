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
    server {
        listen 127.0.0.1:{port} ssl;
        server_name noca.example;
        ssl_certificate {tls}/noca.pem;
        ssl_certificate_key {tls}/noca.key;
        ssl_client_certificate {tls}/ca.pem;
        ssl_verify_client optional_no_ca;
        location / { content_by_python srvapp:echo_info; }
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory, tls_files, ca):
    from tests.support.serverproc import ServerProcess
    for name in ("other", "noca"):
        issued = ca.issue_cert(name + ".example")
        issued.private_key_pem.write_to_path(str(tls_files / (name + ".key")))
        with open(tls_files / (name + ".pem"), "wb") as f:
            for blob in issued.cert_chain_pems:
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


def test_plain_http_on_a_tls_port_gets_nginx_400_page(srv):
    with Conn(srv.port) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.status == 400 and r.header("Connection") == "close"
        assert b"<title>400 The plain HTTP request was sent to HTTPS port</title>" in r.body
        assert c.is_closed()
    assert "client sent plain HTTP request to HTTPS port" in srv.error_log()


@pytest.fixture
def rogue_files(tmp_path):
    """A client certificate from a CA the server does not trust."""
    import trustme
    rogue = trustme.CA().issue_cert("client.example")
    rogue.private_key_pem.write_to_path(str(tmp_path / "k.pem"))
    rogue.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    return tmp_path / "c.pem", tmp_path / "k.pem"


def rogue_conn(srv, tls_files, rogue_files, server_name):
    ctx = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    ctx.load_cert_chain(*map(str, rogue_files))
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    return Conn(srv.port, sock=ctx.wrap_socket(raw, server_hostname=server_name))


@pytest.mark.parametrize("name", ["localhost", "other.example"])  # optional, on
def test_untrusted_client_certificate_gets_the_ssl_certificate_error_page(srv, tls_files, rogue_files, name):
    # as nginx: the handshake completes, then the request is answered 400 (495 internally)
    with rogue_conn(srv, tls_files, rogue_files, name) as c:
        r = c.request("GET", "/x", headers={"Host": name})
        assert r.status == 400
        assert b"<title>400 The SSL certificate error</title>" in r.body
        assert r.header("Connection") == "close"
    assert "client SSL certificate verify error: (21:unable to verify the first certificate) " \
        "while reading client request headers" in srv.error_log()


def test_optional_no_ca_passes_an_untrusted_certificate_to_the_handler(srv, tls_files, rogue_files):
    with rogue_conn(srv, tls_files, rogue_files, "noca.example") as c:
        r = c.request("GET", "/x", headers={"Host": "noca.example"})
        assert r.status == 200
        v = json.loads(r.body)["var"]
        assert v["ssl_client_verify"] == "FAILED:unable to verify the first certificate"
    with tls_conn(srv, tls_files, server_name="noca.example", client_cert=True) as c:
        r = c.request("GET", "/x", headers={"Host": "noca.example"})
        assert json.loads(r.body)["var"]["ssl_client_verify"] == "SUCCESS"
