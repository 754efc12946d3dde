"""cosocket TLS: sslhandshake with SNI, verification, client certificates, session reuse."""
import ssl

import gevent
import pytest
from gevent import ssl as gssl
from gevent.server import StreamServer

from cosocket import ngx, runtime, tls
from cosocket.confmodel import HttpSettings
from tests.support.logcapture import log_file


pytestmark = pytest.mark.usefixtures("fresh_pools")


@pytest.fixture
def settings(tls_files):
    saved = runtime.worker.http_settings
    runtime.worker.http_settings = HttpSettings()
    runtime.worker.http_settings.socket.ssl_trusted_certificate = str(tls_files / "ca.pem")
    yield runtime.worker.http_settings.socket
    runtime.worker.http_settings = saved


@pytest.fixture
def errlog(tmp_path):
    yield from log_file(tmp_path, "error")


def make_server(tls_files, require_client_cert=False, max_version=None):
    ctx = gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tls_files / "server.pem"), str(tls_files / "server.key"))
    if max_version:
        ctx.maximum_version = max_version
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(str(tls_files / "ca.pem"))
    seen = {"sni": [], "peer": []}

    def sni(sslobj, name, _ctx):
        seen["sni"].append(name)

    ctx.sni_callback = sni

    def handle(s, addr):
        seen["peer"].append(s.getpeercert())
        try:
            while True:
                data = s.recv(1024)
                if not data:
                    return
                s.sendall(data)
        except OSError:
            return

    srv = StreamServer(("127.0.0.1", 0), handle, ssl_context=ctx)
    srv.start()
    srv.seen = seen
    return srv


@pytest.fixture
def tls_server(tls_files):
    srv = make_server(tls_files)
    yield srv
    srv.stop(timeout=0.1)


def connected(port):
    sock = ngx.socket.tcp()
    sock.settimeout(2000)
    assert sock.connect("127.0.0.1", port) == (1, None)
    return sock


def test_handshake_verify_with_sni(settings, tls_server):
    sock = connected(tls_server.server_port)
    session, err = sock.sslhandshake(None, "test.example", True)
    assert err is None and isinstance(session, tls.Session)
    assert tls_server.seen["sni"] == ["test.example"]
    assert sock.send("hi\n") == (3, None)
    assert sock.receive() == (b"hi", None, None)
    assert sock.close() == (1, None)


def test_reused_session_false_returns_true(settings, tls_server):
    sock = connected(tls_server.server_port)
    assert sock.sslhandshake(False, "localhost", True) == (True, None)


def test_no_verify_accepts_anything(tls_server, errlog):
    sock = connected(tls_server.server_port)  # default settings: no trusted certificate configured
    session, err = sock.sslhandshake(None, "whatever.example", False)
    assert err is None


def test_verify_failure_unknown_issuer(tls_files, tls_server, errlog):
    saved = runtime.worker.http_settings
    runtime.worker.http_settings = HttpSettings()
    runtime.worker.http_settings.socket.ssl_trusted_certificate = str(tls_files / "server.key.missing")
    try:
        sock = connected(tls_server.server_port)
        assert sock.sslhandshake(None, "localhost", True) == (None, "failed to create ssl connection")
    finally:
        runtime.worker.http_settings = saved
    sock = connected(tls_server.server_port)  # system CAs do not know the test CA
    ok, err = sock.sslhandshake(None, "localhost", True)
    assert ok is None
    assert err == "20: unable to get local issuer certificate"
    assert "lua ssl certificate verify error: (20: unable to get local issuer certificate)" in errlog()
    assert sock.send("x") == (None, "closed")


def test_self_signed_certificate(tmp_path, settings, errlog):
    import trustme
    other = trustme.CA()
    ctx = gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER)
    # a self-signed leaf: serve the CA's own certificate and key
    other.cert_pem.write_to_path(str(tmp_path / "self.pem"))
    other.private_key_pem.write_to_path(str(tmp_path / "self.key"))
    ctx.load_cert_chain(str(tmp_path / "self.pem"), str(tmp_path / "self.key"))
    srv = StreamServer(("127.0.0.1", 0), lambda s, a: gevent.sleep(0.2), ssl_context=ctx)
    srv.start()
    try:
        sock = connected(srv.server_port)
        ok, err = sock.sslhandshake(None, None, True)
        assert ok is None and err in ("18: self-signed certificate", "18: self signed certificate")
        assert "lua ssl certificate verify error: (18: self" in errlog()
    finally:
        srv.stop(timeout=0.1)


def test_host_mismatch(settings, tls_server, errlog):
    sock = connected(tls_server.server_port)
    assert sock.sslhandshake(None, "other.example", True) == (None, "certificate host mismatch")
    assert 'lua ssl certificate does not match host "other.example"' in errlog()


def test_handshake_failed_on_plain_peer(errlog):
    srv = StreamServer(("127.0.0.1", 0), lambda s, a: (s.sendall(b"HTTP/1.0 400 Bad\r\n\r\n"), s.close()))
    srv.start()
    try:
        sock = connected(srv.server_port)
        assert sock.sslhandshake() == (None, "handshake failed")
    finally:
        srv.stop(timeout=0.1)


def test_handshake_timeout():
    srv = StreamServer(("127.0.0.1", 0), lambda s, a: gevent.sleep(0.5))
    srv.start()
    try:
        sock = ngx.socket.tcp()
        sock.settimeouts(60, 1000, 1000)
        sock.connect("127.0.0.1", srv.server_port)
        assert sock.sslhandshake() == (None, "timeout")
    finally:
        srv.stop(timeout=0.1)


def test_client_certificate(settings, tls_files):
    srv = make_server(tls_files, require_client_cert=True)
    try:
        cert, err = ngx.ssl.parse_pem_cert((tls_files / "client.pem").read_text())
        assert err is None
        key, err = ngx.ssl.parse_pem_priv_key((tls_files / "client.key").read_bytes())
        assert err is None
        sock = connected(srv.server_port)
        assert sock.setclientcert(cert, key) == (True, None)
        assert sock.sslhandshake(False, "localhost", True) == (True, None)
        assert sock.send("x\n") == (2, None)
        assert sock.receive() == (b"x", None, None)
        names = [v for _k, v in srv.seen["peer"][0].get("subjectAltName", ())]
        assert names == ["client.example"]
        # without a certificate the server refuses us
        bare = connected(srv.server_port)
        ok, err = bare.sslhandshake(False, "localhost", True)
        if ok is not None:  # TLS 1.3: the refusal arrives with the first read
            bare.send("x\n")
            assert bare.receive()[0] is None
    finally:
        srv.stop(timeout=0.1)


def test_setclientcert_arguments(tls_files):
    sock = ngx.socket.tcp()
    cert, _ = ngx.ssl.parse_pem_cert((tls_files / "client.pem").read_text())
    assert sock.setclientcert(cert, None) == (None, "client certificate must be supplied with corresponding private key")
    assert sock.setclientcert("x", "y") == (None, "bad cert arg: cdata expected, got str")
    assert sock.setclientcert() == (True, None)


def test_parse_pem_errors():
    assert ngx.ssl.parse_pem_cert("garbage") == (None, "PEM_read_bio_X509_AUX() failed")
    assert ngx.ssl.parse_pem_cert("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n") == \
        (None, "PEM_read_bio_X509_AUX() failed")
    assert ngx.ssl.parse_pem_priv_key("garbage") == (None, "PEM_read_bio_PrivateKey() failed")
    with pytest.raises(TypeError):
        ngx.ssl.parse_pem_cert(None)


@pytest.mark.parametrize("max_version", [ssl.TLSVersion.TLSv1_2, None])
def test_session_reuse(settings, tls_files, max_version):
    srv = make_server(tls_files, max_version=max_version)
    try:
        sock = connected(srv.server_port)
        session, err = sock.sslhandshake(None, "localhost", True)
        assert err is None
        sock.send("a\n")
        assert sock.receive() == (b"a", None, None)
        sock.close()
        again = connected(srv.server_port)
        session2, err = again.sslhandshake(session, "localhost", True)
        assert err is None
        assert again._sock.session_reused is True
    finally:
        srv.stop(timeout=0.1)


def test_pooled_tls_connection_skips_handshake(settings, tls_server):
    sock = connected(tls_server.server_port)
    session, _ = sock.sslhandshake(None, "localhost", True)
    sock.send("a\n")
    sock.receive()
    assert sock.setkeepalive() == (1, None)
    again = connected(tls_server.server_port)
    assert again.getreusedtimes() == (1, None)
    assert again.sslhandshake(session, "localhost", True) == (session, None)
    assert again.sslhandshake(False) == (True, None)
    assert again.send("b\n") == (2, None)
    assert again.receive() == (b"b", None, None)


def test_verify_depth(tmp_path, ca, settings):
    child = ca.create_child_ca()
    leaf = child.issue_cert("localhost")
    leaf.private_key_pem.write_to_path(str(tmp_path / "k.pem"))
    with open(tmp_path / "c.pem", "wb") as f:
        for blob in leaf.cert_chain_pems:
            f.write(blob.bytes())
    ctx = gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    srv = StreamServer(("127.0.0.1", 0), lambda s, a: gevent.sleep(0.2), ssl_context=ctx)
    srv.start()
    try:
        settings.ssl_verify_depth = 0
        sock = connected(srv.server_port)
        ok, err = sock.sslhandshake(None, "localhost", True)
        assert (ok, err) == (None, "22: certificate chain too long")
        settings.ssl_verify_depth = 2
        sock = connected(srv.server_port)
        ok, err = sock.sslhandshake(None, "localhost", True)
        assert err is None
    finally:
        srv.stop(timeout=0.1)


def test_a_tls_connection_has_no_raw_socket(settings, tls_server):
    # frames on a TLS connection go through the SSL socket, never the raw one under it
    sock = connected(tls_server.server_port)
    assert sock._raw is not None
    assert sock.sslhandshake(False, "localhost", False) == (True, None)
    assert sock._raw is None
