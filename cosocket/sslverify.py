"""Client certificate verification as nginx does it, on CPython's ssl objects through ctypes.

nginx asks for the client's certificate with a verify callback that accepts
every chain (`ngx_ssl_verify_callback` returns 1), so the handshake always
completes; OpenSSL still verifies the chain against `ssl_client_certificate`
and keeps the outcome, which nginx reads after the handshake with
`SSL_get_verify_result`: `$ssl_client_verify` is then `SUCCESS`,
`FAILED:<X509_verify_cert_error_string>` or `NONE`, and a request whose
certificate failed gets the 400 "The SSL certificate error" page.

The stdlib has no verify callback, so this module installs one with
`SSL_CTX_set_verify` on the `SSL_CTX` behind an `SSLContext` and reads the
result from the `SSL` behind a handshaken socket.  Both pointers are found
from CPython's object layout and checked against each other with
`SSL_get_SSL_CTX` before use; when anything is missing the functions answer
False / None and the caller keeps the stdlib's behaviour (a failed
handshake for an untrusted certificate).
"""
from __future__ import annotations

import ctypes
from typing import Optional, Tuple

SSL_VERIFY_PEER = 0x01
X509_V_OK = 0
#: errors that `ssl_verify_client optional_no_ca` lets through (ngx_ssl_verify_error_optional)
OPTIONAL_NO_CA_ERRORS = frozenset((
    2,   # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
    18,  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    19,  # X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    20,  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21,  # X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
))

_VERIFY_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


def _accept(_preverify_ok, _store_ctx):
    return 1


_accept_cb = _VERIFY_CB(_accept)  # kept alive for the process's lifetime
_lib = None


def _libssl():
    global _lib
    if _lib is None:
        import _ssl
        lib = ctypes.CDLL(_ssl.__file__)  # its libssl/libcrypto symbols resolve through it
        lib.SSL_CTX_set_verify.argtypes = (ctypes.c_void_p, ctypes.c_int, _VERIFY_CB)
        lib.SSL_CTX_set_verify.restype = None
        lib.SSL_CTX_get_verify_mode.argtypes = (ctypes.c_void_p,)
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
        lib.SSL_get_SSL_CTX.argtypes = (ctypes.c_void_p,)
        lib.SSL_get_SSL_CTX.restype = ctypes.c_void_p
        lib.SSL_set_verify.argtypes = (ctypes.c_void_p, ctypes.c_int, _VERIFY_CB)
        lib.SSL_set_verify.restype = None
        lib.SSL_get_verify_result.argtypes = (ctypes.c_void_p,)
        lib.SSL_get_verify_result.restype = ctypes.c_long
        lib.X509_verify_cert_error_string.argtypes = (ctypes.c_long,)
        lib.X509_verify_cert_error_string.restype = ctypes.c_char_p
        _lib = lib
    return _lib


def _ctx_ptr(ctx) -> Optional[int]:
    # PySSLContext: PyObject_HEAD, then SSL_CTX *ctx
    return ctypes.c_void_p.from_address(id(ctx) + 2 * ctypes.sizeof(ctypes.c_void_p)).value


def _ssl_ptr(sock) -> Optional[int]:
    """The SSL* of an ssl socket (or of its `_ssl._SSLSocket`), checked against its context."""
    obj = getattr(sock, "_sslobj", sock)
    if obj is None or type(obj).__name__ != "_SSLSocket":
        return None
    # PySSLSocket: PyObject_HEAD, PyObject *Socket, then SSL *ssl
    ptr = ctypes.c_void_p.from_address(id(obj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value
    if not ptr:
        return None
    try:
        ctx = obj.context
    except AttributeError:
        return None
    if _libssl().SSL_get_SSL_CTX(ptr) != _ctx_ptr(ctx):
        return None
    return ptr


def accept_any_client_certificate(ctx) -> bool:
    """Make `ctx` request a client certificate and complete the handshake whatever the chain's
    verification says (call after setting verify_mode); False when it could not be done."""
    try:
        ptr = _ctx_ptr(ctx)
        if not ptr:
            return False
        lib = _libssl()
        lib.SSL_CTX_set_verify(ptr, SSL_VERIFY_PEER, _accept_cb)
        return lib.SSL_CTX_get_verify_mode(ptr) == SSL_VERIFY_PEER
    except (OSError, AttributeError, ValueError, ImportError):
        return False


def follow_context(sock, ctx) -> None:
    """After SNI switched `sock` to `ctx`, take `ctx`'s client verification (as nginx's
    servername callback does with SSL_set_verify)."""
    try:
        ptr = _ssl_ptr(sock)
        if ptr is None:
            return
        lib = _libssl()
        mode = lib.SSL_CTX_get_verify_mode(_ctx_ptr(ctx))
        lib.SSL_set_verify(ptr, mode, _accept_cb)
    except (OSError, AttributeError, ValueError, ImportError):
        pass


def verify_result(sock) -> Optional[Tuple[int, str]]:
    """(X509 verify result, its text) of a handshaken socket; None when it cannot be read."""
    try:
        ptr = _ssl_ptr(sock)
        if ptr is None:
            return None
        lib = _libssl()
        code = lib.SSL_get_verify_result(ptr)
        text = lib.X509_verify_cert_error_string(code) or b""
        return code, text.decode("ascii", "replace")
    except (OSError, AttributeError, ValueError, ImportError):
        return None
