"""Non-blocking name resolution for cosocket `connect`.

With a `resolver` directive (runtime.socket_settings().resolver) names are
looked up by a small DNS client over gevent UDP sockets: A and AAAA
queries (AAAA unless `ipv6=off`), answers cached for their TTL or for
`valid=`, `resolver_timeout` bounding the whole lookup.  Without one, the
system's resolver is used through gevent's hub resolver, which never blocks
the hub.  Failures are reported in nginx's words:
`"example.com could not be resolved (3: Host not found)"`.
"""
from __future__ import annotations

import os
import socket as _stdsocket
import struct
import time
from typing import Dict, List, Optional, Tuple

import gevent
from gevent import socket as gsocket

from .confmodel import ResolverConf

# ngx_resolver_strerror's texts, by nginx's NGX_RESOLVE_* codes.
_STRERROR = {1: "Format error", 2: "Server failure", 3: "Host not found",
             4: "Unimplemented", 5: "Operation refused", 110: "Operation timed out"}
NXDOMAIN = 3
TIMEDOUT = 110

Addr = Tuple[int, str]  # (address family, textual address)

_cache: Dict[Tuple[str, bool, bool], Tuple[float, List[Addr]]] = {}


def numeric_address(host: str) -> Optional[Addr]:
    """(family, address) when `host` is an IPv4/IPv6 literal (brackets allowed), else None."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    for family in (_stdsocket.AF_INET, _stdsocket.AF_INET6):
        try:
            _stdsocket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family, host
    return None


def _error(host: str, code: int) -> str:
    return "%s could not be resolved (%d: %s)" % (host, code, _STRERROR.get(code, "Unknown error"))


def resolve(host: str, conf: Optional[ResolverConf], timeout_ms: int) -> Tuple[Optional[List[Addr]], Optional[str]]:
    """Addresses of `host` -> (list of (family, address), None) or (None, nginx's error text)."""
    if conf is not None and conf.servers:
        return _resolve_dns(host, conf, timeout_ms)
    return _resolve_system(host, timeout_ms)


def clear_cache() -> None:
    """Forget every cached answer (tests, reload)."""
    _cache.clear()


# --- the system's resolver -------------------------------------------------

def _resolve_system(host: str, timeout_ms: int):
    try:
        with gevent.Timeout(timeout_ms / 1000.0 if timeout_ms > 0 else None):
            infos = gsocket.getaddrinfo(host, None, 0, _stdsocket.SOCK_STREAM)
    except gevent.Timeout:
        return None, _error(host, TIMEDOUT)
    except _stdsocket.gaierror as exc:
        code = NXDOMAIN if exc.errno in (_stdsocket.EAI_NONAME, getattr(_stdsocket, "EAI_NODATA", -5)) else 2
        return None, _error(host, code)
    except (OSError, UnicodeError):
        return None, _error(host, NXDOMAIN)
    addrs: List[Addr] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family in (_stdsocket.AF_INET, _stdsocket.AF_INET6) and (family, sockaddr[0]) not in addrs:
            addrs.append((family, sockaddr[0]))
    if not addrs:
        return None, _error(host, NXDOMAIN)
    return addrs, None


# --- the DNS client for the `resolver` directive -----------------------------

QTYPE_A, QTYPE_CNAME, QTYPE_AAAA = 1, 5, 28


def build_query(qid: int, name: str, qtype: int) -> bytes:
    """A recursive DNS query for `name`."""
    labels = b"".join(bytes([len(p)]) + p for p in name.rstrip(".").encode("idna").split(b".") if p)
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack("!HH", qtype, 1)


def _read_name(msg: bytes, off: int) -> Tuple[str, int]:
    labels = []
    end = None
    hops = 0
    while True:
        length = msg[off]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((length & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        off += 1
        if length == 0:
            break
        labels.append(msg[off:off + length].decode("ascii", "replace"))
        off += length
    return ".".join(labels).lower(), (end if end is not None else off)


def parse_response(msg: bytes):
    """-> (id, rcode, [(name, type, ttl, value)]) where value is an address or a CNAME target."""
    qid, flags, qdcount, ancount, _ns, _ar = struct.unpack_from("!HHHHHH", msg, 0)
    off = 12
    for _ in range(qdcount):
        _name, off = _read_name(msg, off)
        off += 4
    answers = []
    for _ in range(ancount):
        name, off = _read_name(msg, off)
        rtype, _rclass, ttl, rdlen = struct.unpack_from("!HHIH", msg, off)
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == QTYPE_A and rdlen == 4:
            answers.append((name, rtype, ttl, _stdsocket.inet_ntop(_stdsocket.AF_INET, rdata)))
        elif rtype == QTYPE_AAAA and rdlen == 16:
            answers.append((name, rtype, ttl, _stdsocket.inet_ntop(_stdsocket.AF_INET6, rdata)))
        elif rtype == QTYPE_CNAME:
            answers.append((name, rtype, ttl, _read_name(msg, off)[0]))
        off += rdlen
    return qid, flags & 0x000F, answers


def _query(name: str, qtypes: List[int], servers, deadline: float):
    """Ask the servers for `qtypes` of `name` -> ({qtype: (rcode, answers)}, timed_out)."""
    results: Dict[int, Tuple[int, list]] = {}
    for index in range(len(servers)):
        host, port = servers[index]
        family = _stdsocket.AF_INET6 if ":" in host else _stdsocket.AF_INET
        sock = gsocket.socket(family, _stdsocket.SOCK_DGRAM)
        try:
            sock.connect((host, port))
            pending = {}
            for qtype in qtypes:
                if qtype in results:
                    continue
                qid = struct.unpack("!H", os.urandom(2))[0]
                pending[qid] = qtype
                sock.send(build_query(qid, name, qtype))
            while pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return results, True
                sock.settimeout(left)
                try:
                    msg = sock.recv(4096)
                except _stdsocket.timeout:
                    return results, True
                except OSError:
                    break  # e.g. ICMP port unreachable: try the next server
                try:
                    qid, rcode, answers = parse_response(msg)
                except (ValueError, IndexError, struct.error):
                    continue
                qtype = pending.pop(qid, None)
                if qtype is not None:
                    results[qtype] = (rcode, answers)
            if not pending:
                return results, False
        finally:
            sock.close()
    return results, False


def _resolve_dns(host: str, conf: ResolverConf, timeout_ms: int):
    name = host.rstrip(".").lower()
    cache_key = (name, conf.ipv4, conf.ipv6)
    hit = _cache.get(cache_key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return list(hit[1]), None
    deadline = now + (timeout_ms / 1000.0 if timeout_ms > 0 else 30.0)
    qtypes = ([QTYPE_A] if conf.ipv4 else []) + ([QTYPE_AAAA] if conf.ipv6 else [])
    target = name
    for _hop in range(8):  # follow CNAME chains the answers do not resolve
        results, timed_out = _query(target, qtypes, conf.servers, deadline)
        addrs: List[Addr] = []
        ttls = []
        cname = None
        rcodes = []
        for qtype in qtypes:
            if qtype not in results:
                continue
            rcode, answers = results[qtype]
            rcodes.append(rcode)
            for _n, rtype, ttl, value in answers:
                if rtype in (QTYPE_A, QTYPE_AAAA) and rtype == qtype:
                    family = _stdsocket.AF_INET if rtype == QTYPE_A else _stdsocket.AF_INET6
                    addrs.append((family, value))
                    ttls.append(ttl)
                elif rtype == QTYPE_CNAME:
                    cname = value
        if addrs:
            valid = conf.valid / 1000.0 if conf.valid is not None else min(ttls)
            _cache[cache_key] = (time.monotonic() + valid, addrs)
            return list(addrs), None
        if timed_out and not rcodes:
            return None, _error(host, TIMEDOUT)
        errors = [r for r in rcodes if r]
        if errors:
            return None, _error(host, errors[0])
        if timed_out:
            return None, _error(host, TIMEDOUT)
        if cname is None or cname == target:
            return None, _error(host, NXDOMAIN)
        target = cname
    return None, _error(host, NXDOMAIN)
