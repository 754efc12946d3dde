"""ngx.req.*: the request line, headers, query and POST arguments, the body and ngx.req.socket."""
from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

from ..codecs import decode_args
from ..runtime import get_request as _req
from .request import Request, acquire_raw_socket, canonical_name

if TYPE_CHECKING:
    from ..tcp import TCPSocket
    from ..types import ReadResult

class RequestHeaders(dict):
    """`ngx.req.get_headers()`: lower-case keys, case-insensitive (and `_` = `-`) lookup, lists for repeats."""

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, canonical_name(key).lower())

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, canonical_name(key).lower(), default)

    def __contains__(self, key: Any) -> bool:
        return dict.__contains__(self, canonical_name(key).lower())


# -- ngx.req ---------------------------------------------------------------------

def _http_version() -> float:
    """ngx.req.http_version(): 1.1 or 1.0."""
    return _req("ngx.req.http_version").head.http_version


def _get_method() -> str:
    """ngx.req.get_method(): "GET", "POST", ..."""
    return _req("ngx.req.get_method").head.method


def _get_headers(max_headers: int = 100, raw: bool = False) -> Dict[str, Any]:
    """ngx.req.get_headers(max_headers=100, raw=False): a mapping; repeated headers as lists."""
    r = _req("ngx.req.get_headers")
    out = {} if raw else RequestHeaders()
    count = 0
    for name, value in r.head.headers:
        if max_headers and count >= max_headers:
            break
        count += 1
        key = name if raw else name.lower()
        old = dict.get(out, key)
        if old is None:
            dict.__setitem__(out, key, value)
        elif isinstance(old, list):
            old.append(value)
        else:
            dict.__setitem__(out, key, [old, value])
    return out


def _decode_args(text: Optional[str], max_args: int) -> dict:
    """A query string or urlencoded body -> {key: value} by ngx.decode_args's rules (`+` is a space, empty
    keys dropped, repeats as lists, bare keys True), keys and values as text.  As ngx.req.get_uri_args in
    lua-nginx-module, empty `&&` pieces do not count toward `max_args` (ngx.decode_args counts them)."""
    if not text:
        return {}
    data = b"&".join(piece for piece in text.encode("latin-1", "replace").split(b"&") if piece)
    args, _err = decode_args(data, max_args)
    return {_text(k): [_text(x) for x in v] if isinstance(v, list) else _text(v) for k, v in args.items()}


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def get_uri_args_of(r: Request, max_args: int = 100) -> dict:
    """The query arguments of request `r` (what ngx.req.get_uri_args returns)."""
    return _decode_args(r.head.args, max_args)


def _get_uri_args(max_args: int = 100) -> Dict[str, Any]:
    """ngx.req.get_uri_args(max_args=100): a dict; bare keys give True, repeats give lists."""
    return get_uri_args_of(_req("ngx.req.get_uri_args"), max_args)


def _get_post_args(max_args: int = 100) -> Dict[str, Any]:
    """ngx.req.get_post_args(): the urlencoded body as a dict (call read_body first)."""
    r = _req("ngx.req.get_post_args")
    if r.body_state == "unread":
        raise RuntimeError("request body not read yet")
    return _decode_args(r.body.decode("latin-1") if r.body else None, max_args)


def _read_body() -> None:
    """ngx.req.read_body(): read the body; a too large body ends the request with 413."""
    r = _req("ngx.req.read_body")
    if r.raw_acquired:
        return
    r.read_body()


def _discard_body() -> None:
    """ngx.req.discard_body()."""
    _req("ngx.req.discard_body").discard_body()


def _get_body_data() -> Optional[bytes]:
    """ngx.req.get_body_data(): the body read by read_body, or None."""
    r = _req("ngx.req.get_body_data")
    return r.body if r.body else None


def _get_body_file() -> None:
    """ngx.req.get_body_file(): bodies are always kept in memory here, so None."""
    _req("ngx.req.get_body_file")
    return None


#: The largest single read a body reader asks of the socket.
_PIECE = 65536


class _BodyReader:
    """The non-raw `ngx.req.socket()`: reads at most Content-Length bytes of the body."""

    def __init__(self, r: Request, rest: int):
        self._r = r
        self._sock = r.socket
        self._rest = rest

    def settimeout(self, ms: Optional[float]) -> None:
        return self._sock.settimeout(ms)

    def settimeouts(self, connect_ms: Optional[float], send_ms: Optional[float],
                    read_ms: Optional[float]) -> None:
        return self._sock.settimeouts(connect_ms, send_ms, read_ms)

    def receive(self, size: Union[int, str] = "*l") -> ReadResult:
        """receive(n) / receive("*a") / receive("*l") within the remaining body."""
        if self._rest <= 0:
            return None, "closed", b""
        if size == "*a":
            size = self._rest
        if isinstance(size, int) and not isinstance(size, bool):
            n = min(size, self._rest)
            data, err, partial = self._receive(n)
            if data is None:
                self._rest -= len(partial or b"")
                return None, err, partial
            self._rest -= n
            return data, None, None
        data, err, partial = self._sock.receive("*l")
        if data is not None:
            self._rest -= len(data) + 1
        return data, err, partial

    def _receive(self, n: int) -> ReadResult:
        """`n` bytes read piece by piece: memory follows what arrives, not the length asked for."""
        if n <= _PIECE:
            return self._sock.receive(n)
        pieces = []
        got = 0
        while got < n:
            data, err, partial = self._sock.receive(min(n - got, _PIECE))
            if data is None:
                pieces.append(partial or b"")
                return None, err, b"".join(pieces)
            pieces.append(data)
            got += len(data)
        return b"".join(pieces), None, None

    def receiveuntil(self, pattern: Union[str, bytes], *args: Any, **kwargs: Any) -> Any:
        return self._sock.receiveuntil(pattern, *args, **kwargs)


def _socket(raw: bool = False) -> Tuple[Union[TCPSocket, _BodyReader, None], Optional[str]]:
    """ngx.req.socket(raw=False) -> (sock, err); raw=True gives the full-duplex connection cosocket."""
    r = _req("ngx.req.socket")
    if raw:
        return acquire_raw_socket(r)
    return _body_socket(r)


def _body_socket(r: Request) -> Tuple[Optional[_BodyReader], Optional[str]]:
    """`ngx.req.socket()` for request `r`: a reader of its body -> (reader, err)."""
    if r.is_chunked():
        return None, "chunked request bodies not supported yet"
    if r.body_state in ("read", "raw", "reader"):
        return None, "request body already exists"
    if r.body_state == "discarded":
        return None, "request body discarded"
    length = r.content_length()
    if not length or length <= 0:
        return None, "no body"
    if (r.head.get("expect") or "").lower() == "100-continue" and r.head.http_version >= 1.1:
        r.socket.send(b"HTTP/1.1 100 Continue\r\n\r\n")
    r.body_state = "reader"
    r.socket.settimeouts(0, 0, 0)
    return _BodyReader(r, length), None


if TYPE_CHECKING:
    class _ReqAPI:
        http_version = staticmethod(_http_version)
        get_method = staticmethod(_get_method)
        get_headers = staticmethod(_get_headers)
        get_uri_args = staticmethod(_get_uri_args)
        get_post_args = staticmethod(_get_post_args)
        read_body = staticmethod(_read_body)
        discard_body = staticmethod(_discard_body)
        get_body_data = staticmethod(_get_body_data)
        get_body_file = staticmethod(_get_body_file)
        socket = staticmethod(_socket)
    req: _ReqAPI
else:
    req = SimpleNamespace(
        http_version=_http_version,
        get_method=_get_method,
        get_headers=_get_headers,
        get_uri_args=_get_uri_args,
        get_post_args=_get_post_args,
        read_body=_read_body,
        discard_body=_discard_body,
        get_body_data=_get_body_data,
        get_body_file=_get_body_file,
        socket=_socket,
    )

