"""A tiny blocking HTTP/1.x client on plain sockets, to see exactly what the server puts on the wire."""
from __future__ import annotations

import socket
from typing import Dict, List, Optional, Tuple


class Response:
    def __init__(self, version: str, status: int, reason: str, headers: List[Tuple[str, str]], body: bytes,
                 raw_head: bytes):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw_head = raw_head

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name: str) -> List[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return "<Response %d %r>" % (self.status, self.body[:80])


class Conn:
    """One client connection: send raw bytes, read responses one by one."""

    def __init__(self, port: int, timeout: float = 3.0, sock: Optional[socket.socket] = None, host="127.0.0.1"):
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str = "GET", path: str = "/", headers: Optional[Dict[str, str]] = None,
                body: bytes = b"", version: str = "HTTP/1.1") -> "Response":
        hdrs = {"Host": "localhost"}
        hdrs.update(headers or {})
        if body and "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
            hdrs["Content-Length"] = str(len(body))
        head = "%s %s %s\r\n" % (method, path, version) + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        self.send(head.encode("latin-1") + body)
        return self.read_response(head_only=(method == "HEAD"))

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def _read_until(self, delim: bytes) -> bytes:
        while delim not in self.buf:
            if not self._fill():
                raise ConnectionError("closed before %r; got %r" % (delim, self.buf))
        i = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_n(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError("closed after %d of %d bytes" % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self) -> Tuple[str, int, str, List[Tuple[str, str]], bytes]:
        raw = self._read_until(b"\r\n\r\n")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers.append((k, v.strip()))
        return version, int(status), reason, headers, raw

    def read_response(self, head_only: bool = False) -> Response:
        version, status, reason, headers, raw = self.read_head()
        resp = Response(version, status, reason, headers, b"", raw)
        if head_only or status in (101, 204, 304) or 100 <= status < 200:
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te and te.lower() == "chunked":
            parts = []
            while True:
                size = int(self._read_until(b"\r\n").strip().split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                parts.append(self._read_n(size))
                self._read_n(2)
            resp.body = b"".join(parts)
            resp.chunks = parts
        elif cl is not None:
            resp.body = self._read_n(int(cl))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def is_closed(self, timeout: float = 1.0) -> bool:
        """True when the server closed the connection (EOF or reset) within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return False
        except OSError:
            return True
        return data == b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def get(port: int, path: str = "/", **kw) -> Response:
    with Conn(port) as c:
        return c.request("GET", path, **kw)
