"""The resolver: a DNS client over gevent UDP for the `resolver` directive, and the system's resolver."""
import socket
import struct

import gevent
import pytest
from gevent import socket as gsocket
from gevent.server import StreamServer

from cosocket import ngx, resolver, runtime
from cosocket.confmodel import HttpSettings, ResolverConf


class FakeDNS:
    """A UDP name server on 127.0.0.1: `records[name] = [(qtype, ttl, value)]`, `rcodes[name] = code`."""

    def __init__(self):
        self.records = {}
        self.rcodes = {}
        self.silent = False
        self.queries = []
        self.sock = gsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.loop = gevent.spawn(self.serve)

    def serve(self):
        while True:
            msg, addr = self.sock.recvfrom(512)
            qid = struct.unpack_from("!H", msg)[0]
            name, off = resolver._read_name(msg, 12)
            qtype = struct.unpack_from("!H", msg, off)[0]
            self.queries.append((name, qtype))
            if self.silent:
                continue
            question = msg[12:off + 4]
            answers = b""
            count = 0
            for rtype, ttl, value in self.records.get(name, []):
                if rtype != qtype and rtype != resolver.QTYPE_CNAME:
                    continue
                if rtype == resolver.QTYPE_A:
                    rdata = socket.inet_pton(socket.AF_INET, value)
                elif rtype == resolver.QTYPE_AAAA:
                    rdata = socket.inet_pton(socket.AF_INET6, value)
                else:
                    rdata = resolver.build_query(0, value, 1)[12:-4]
                answers += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata
                count += 1
            rcode = self.rcodes.get(name, 0)
            header = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, count, 0, 0)
            self.sock.sendto(header + question + answers, addr)

    def close(self):
        self.loop.kill()
        self.sock.close()


@pytest.fixture
def dns():
    server = FakeDNS()
    resolver.clear_cache()
    yield server
    server.close()
    resolver.clear_cache()


@pytest.fixture
def settings(dns):
    saved = runtime.worker.http_settings
    runtime.worker.http_settings = HttpSettings()
    sock_settings = runtime.worker.http_settings.socket
    sock_settings.resolver = ResolverConf(servers=[("127.0.0.1", dns.port)])
    sock_settings.resolver_timeout = 150
    yield sock_settings
    runtime.worker.http_settings = saved


def test_connect_by_name_through_resolver(dns, settings):
    srv = StreamServer(("127.0.0.1", 0), lambda s, a: s.sendall(b"resolved\n"))
    srv.start()
    try:
        dns.records["backend.test"] = [(resolver.QTYPE_A, 60, "127.0.0.1")]
        sock = ngx.socket.tcp()
        assert sock.connect("backend.test", srv.server_port) == (1, None)
        assert sock.receive() == (b"resolved", None, None)
        assert ("backend.test", resolver.QTYPE_A) in dns.queries
        assert ("backend.test", resolver.QTYPE_AAAA) in dns.queries
    finally:
        srv.stop(timeout=0.1)


def test_ipv6_off_sends_only_a_queries(dns, settings):
    settings.resolver.ipv6 = False
    dns.records["v4.test"] = [(resolver.QTYPE_A, 60, "127.0.0.2")]
    assert resolver.resolve("v4.test", settings.resolver, 150) == ([(socket.AF_INET, "127.0.0.2")], None)
    assert dns.queries == [("v4.test", resolver.QTYPE_A)]


def test_aaaa_answers(dns, settings):
    dns.records["v6.test"] = [(resolver.QTYPE_AAAA, 60, "::1")]
    assert resolver.resolve("v6.test", settings.resolver, 150) == ([(socket.AF_INET6, "::1")], None)


def test_cache_honours_ttl_and_valid(dns, settings):
    dns.records["c.test"] = [(resolver.QTYPE_A, 60, "127.0.0.3")]
    resolver.resolve("c.test", settings.resolver, 150)
    resolver.resolve("c.test", settings.resolver, 150)
    assert len(dns.queries) == 2  # A + AAAA once, then cached
    dns.records["zero.test"] = [(resolver.QTYPE_A, 0, "127.0.0.4")]
    resolver.resolve("zero.test", settings.resolver, 150)
    resolver.resolve("zero.test", settings.resolver, 150)
    assert len([q for q in dns.queries if q[0] == "zero.test"]) == 4  # TTL 0: asked twice
    settings.resolver.valid = 30000
    resolver.resolve("zero.test", settings.resolver, 150)
    resolver.resolve("zero.test", settings.resolver, 150)
    assert len([q for q in dns.queries if q[0] == "zero.test"]) == 6  # valid= overrides TTL 0


def test_cname_followed(dns, settings):
    dns.records["alias.test"] = [(resolver.QTYPE_CNAME, 60, "real.test")]
    dns.records["real.test"] = [(resolver.QTYPE_A, 60, "127.0.0.5")]
    assert resolver.resolve("alias.test", settings.resolver, 150) == ([(socket.AF_INET, "127.0.0.5")], None)


def test_nxdomain_and_server_failure(dns, settings):
    dns.rcodes["gone.test"] = 3
    sock = ngx.socket.tcp()
    assert sock.connect("gone.test", 80) == (None, "gone.test could not be resolved (3: Host not found)")
    dns.rcodes["broken.test"] = 2
    assert sock.connect("broken.test", 80) == (None, "broken.test could not be resolved (2: Server failure)")
    assert sock.connect("empty.test", 80) == (None, "empty.test could not be resolved (3: Host not found)")


def test_resolver_timeout(dns, settings):
    dns.silent = True
    settings.resolver_timeout = 60
    sock = ngx.socket.tcp()
    assert sock.connect("slow.test", 80) == (None, "slow.test could not be resolved (110: Operation timed out)")


def test_resolution_does_not_block_the_hub(dns, settings):
    dns.silent = True
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(5)])
    resolver.resolve("slow.test", settings.resolver, 100)
    ticker.join()
    assert len(ticks) == 5


def test_numeric_addresses_are_not_resolved(dns, settings):
    assert resolver.numeric_address("127.0.0.1") == (socket.AF_INET, "127.0.0.1")
    assert resolver.numeric_address("[::1]") == (socket.AF_INET6, "::1")
    assert resolver.numeric_address("example.test") is None


def test_system_resolver_host_not_found():
    addrs, err = resolver.resolve("nothing-here.invalid", None, 2000)
    assert addrs is None and err == "nothing-here.invalid could not be resolved (3: Host not found)"
    addrs, err = resolver.resolve("localhost", None, 2000)
    assert err is None and any(a[1] in ("127.0.0.1", "::1") for a in addrs)
