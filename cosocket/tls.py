"""Client TLS for cosockets: SSL contexts and `ngx.ssl.parse_pem_cert/parse_pem_priv_key`.

Contexts are cached per (verify, trusted CA file, verify depth, host check,
client certificate) so that the session objects `sslhandshake` hands out can
be given back to a later handshake (OpenSSL resumes a session only through
the context that made it).  TLS 1.2 is the minimum protocol version.
"""
from __future__ import annotations

import base64
import binascii
import ctypes
import os
import re
import tempfile
from types import SimpleNamespace
from typing import Dict, Optional, Tuple

from gevent import ssl as gssl

_PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n(.*?)-----END CERTIFICATE-----", re.S)
_PEM_KEY_RE = re.compile(rb"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----\r?\n(.*?)-----END \1-----", re.S)

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: Python reports a failed host check as a verify error.
HOSTNAME_MISMATCH = 62


class PemCertChain:
    """A parsed certificate chain (what `parse_pem_cert` returns; Lua's cdata)."""

    __slots__ = ("pem", "__weakref__")

    def __init__(self, pem: bytes):
        self.pem = pem

    def __repr__(self) -> str:
        return "<cert chain: %d certificate(s)>" % len(_PEM_CERT_RE.findall(self.pem))


class PemPrivKey:
    """A parsed private key (what `parse_pem_priv_key` returns; Lua's cdata)."""

    __slots__ = ("pem", "__weakref__")

    def __init__(self, pem: bytes):
        self.pem = pem

    def __repr__(self) -> str:
        return "<private key>"


def _as_bytes(pem, fname: str) -> bytes:
    if isinstance(pem, str):
        return pem.encode("utf-8")
    if isinstance(pem, (bytes, bytearray, memoryview)):
        return bytes(pem)
    raise TypeError("bad argument #1 to '%s' (string expected, got %s)" % (fname, type(pem).__name__))


def _valid_base64(block: bytes) -> bool:
    try:
        return bool(base64.b64decode(b"".join(block.split()), validate=True))
    except (binascii.Error, ValueError):
        return False


def parse_pem_cert(pem) -> Tuple[Optional[PemCertChain], Optional[str]]:
    """`ngx.ssl.parse_pem_cert(pem)` -> (cert chain, None) or (None, "PEM_read_bio_X509_AUX() failed")."""
    data = _as_bytes(pem, "parse_pem_cert")
    blocks = _PEM_CERT_RE.findall(data)
    if not blocks:
        return None, "PEM_read_bio_X509_AUX() failed"
    for block in blocks:
        if not _valid_base64(block):
            return None, "PEM_read_bio_X509_AUX() failed"
    return PemCertChain(data), None


def parse_pem_priv_key(pem) -> Tuple[Optional[PemPrivKey], Optional[str]]:
    """`ngx.ssl.parse_pem_priv_key(pem)` -> (key, None) or (None, "PEM_read_bio_PrivateKey() failed")."""
    data = _as_bytes(pem, "parse_pem_priv_key")
    match = _PEM_KEY_RE.search(data)
    if match is None or match.group(1).startswith(b"ENCRYPTED"):
        return None, "PEM_read_bio_PrivateKey() failed"
    if not _valid_base64(match.group(2)):
        return None, "PEM_read_bio_PrivateKey() failed"
    return PemPrivKey(data), None


#: What `ngx.ssl` resolves to.
ssl_namespace = SimpleNamespace(parse_pem_cert=parse_pem_cert, parse_pem_priv_key=parse_pem_priv_key)


class Session:
    """The session object `sslhandshake` returns; give it back to resume the session.

    It follows its connection until that connection is closed, because a
    TLS 1.3 server sends its session tickets after the handshake.
    """

    __slots__ = ("_ssock", "_session", "context")

    def __init__(self, ssock, context):
        self._ssock = ssock
        self._session = ssock.session
        self.context = context

    def refresh(self) -> None:
        """Take the newest session from the live connection (called before it is closed)."""
        ssock = self._ssock
        if ssock is not None:
            try:
                latest = ssock.session
            except (AttributeError, ValueError, OSError):
                latest = None
            if latest is not None:
                self._session = latest

    def detach(self) -> None:
        self.refresh()
        self._ssock = None

    @property
    def session(self):
        """The `ssl.SSLSession` to offer in the next handshake."""
        self.refresh()
        return self._session

    def __repr__(self) -> str:
        return "<ssl session>"


_contexts: Dict[tuple, gssl.SSLContext] = {}


def _set_verify_depth(ctx: gssl.SSLContext, depth: int) -> bool:
    """SSL_CTX_set_verify_depth on a CPython SSLContext (the stdlib has no API for it)."""
    try:
        import _ssl
        lib = ctypes.CDLL(_ssl.__file__)
        # PySSLContext starts with PyObject_HEAD then the SSL_CTX pointer.
        ptr = ctypes.c_void_p.from_address(id(ctx) + 2 * ctypes.sizeof(ctypes.c_void_p)).value
        if not ptr:
            return False
        func = lib.SSL_CTX_set_verify_depth
        func.argtypes = (ctypes.c_void_p, ctypes.c_int)
        func.restype = None
        func(ptr, depth)
        get = lib.SSL_CTX_get_verify_depth
        get.argtypes = (ctypes.c_void_p,)
        get.restype = ctypes.c_int
        return get(ptr) == depth
    except (OSError, AttributeError, ValueError):
        return False


def _load_client_cert(ctx: gssl.SSLContext, cert: PemCertChain, key: PemPrivKey) -> None:
    # load_cert_chain reads files only: write a private temporary file, load, remove.
    fd, path = tempfile.mkstemp(prefix="cosocket-client-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key.pem)
            f.write(b"\n")
            f.write(cert.pem)
        ctx.load_cert_chain(path)
    finally:
        os.unlink(path)


def client_context(verify: bool, trusted: Optional[str], depth: int, check_host: bool,
                   cert: Optional[PemCertChain] = None, key: Optional[PemPrivKey] = None) -> gssl.SSLContext:
    """The (cached) client context for these settings; raises ssl.SSLError/OSError on bad files."""
    cache_key = (verify, trusted, depth, check_host, id(cert) if cert else None, id(key) if key else None)
    ctx = _contexts.get(cache_key)
    if ctx is not None and (cert is None or ctx._cosocket_cert is cert) and (key is None or ctx._cosocket_key is key):
        return ctx
    ctx = gssl.SSLContext(gssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = gssl.TLSVersion.TLSv1_2
    if verify:
        ctx.check_hostname = check_host
        ctx.verify_mode = gssl.CERT_REQUIRED
        if trusted:
            ctx.load_verify_locations(cafile=trusted)
        else:
            ctx.load_default_certs()
        _set_verify_depth(ctx, depth)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = gssl.CERT_NONE
    if cert is not None and key is not None:
        _load_client_cert(ctx, cert, key)
    # keep the objects alive so their ids stay unique while cached
    ctx._cosocket_cert = cert
    ctx._cosocket_key = key
    _contexts[cache_key] = ctx
    return ctx
