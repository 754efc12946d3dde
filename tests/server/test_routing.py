"""Location precedence, server_name matching, unix and reuseport listeners, access_log off."""
import socket
import time

import pytest

from cosocket.confmodel import HttpSettings, LocationConf, ServerConf
from cosocket.server.handlers import LocationTable, VirtualHosts
from tests.server.conftest import conf
from tests.support.rawhttp import Conn


def loc(modifier, pattern):
    return LocationConf(modifier, pattern, HttpSettings())


def test_location_precedence():
    exact, root, img, static, regex, regex_ci, pref_long = (
        loc("=", "/x"), loc("", "/"), loc("", "/img/"), loc("^~", "/static/"),
        loc("~", r"\.php$"), loc("~*", r"\.JPG$"), loc("", "/img/big/"))
    table = LocationTable([root, img, static, regex, regex_ci, exact, pref_long])
    assert table.find("/x") is exact  # = wins
    assert table.find("/x/") is root
    assert table.find("/a.php") is regex  # regex beats a prefix
    assert table.find("/static/a.php") is static  # ^~ stops the regex search
    assert table.find("/img/a.jpg") is regex_ci  # regexes in order, case-insensitive
    assert table.find("/img/big/a.txt") is pref_long  # the longest prefix
    assert table.find("/img/a.txt") is img
    assert LocationTable([img]).find("/other") is None


def server(*names):
    return ServerConf(listens=[], server_names=list(names), settings=HttpSettings())


def test_server_name_matching():
    first, exact, front, back, regex = (server("first"), server("www.example.com"), server("*.example.com"),
                                        server("mail.*"), server(r"~^api\d+\.example\.org$"))
    v = VirtualHosts([first, exact, front, back, regex])
    assert v.find("www.example.com") is exact
    assert v.find("a.b.example.com") is front
    assert v.find("mail.example.net") is back
    assert v.find("api12.example.org") is regex
    assert v.find("unknown") is first and v.find(None) is first
    v.set_default(regex)
    assert v.find("unknown") is regex


HTTP = """
    server {
        listen 127.0.0.1:{port};
        server_name first.example;
        location / { return 200 "first"; }
    }
    server {
        listen 127.0.0.1:{port} default_server;
        server_name *.wild.example;
        access_log off;
        location / { return 200 "wild"; }
        location = /exact { return 200 "exact"; }
        location ~ \\.txt$ { return 200 "regex"; }
        location ^~ /stop/ { return 200 "stop"; }
    }
    server {
        listen unix:{prefix}/sock;
        listen 127.0.0.1:{port2} reuseport backlog=64;
        server_name unix.example;
        location / { return 200 "unix or reuseport"; }
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from tests.support.serverproc import ServerProcess, free_port
    s = ServerProcess(tmp_path_factory.mktemp("routing"), conf(HTTP, workers=2), fmt={"port2": free_port()})
    s.port2 = int(s.conf_path.read_text().split("127.0.0.1:")[-1].split(" ")[0])
    s.start()
    yield s
    s.stop()


def body(port, path, host, **kw):
    with Conn(port, **kw) as c:
        return c.request("GET", path, headers={"Host": host}).body


def test_servers_chosen_by_host(srv):
    assert body(srv.port, "/", "first.example") == b"first"
    assert body(srv.port, "/", "a.wild.example:99") == b"wild"
    assert body(srv.port, "/", "nobody.example") == b"wild"  # default_server
    assert body(srv.port, "/exact", "x.wild.example") == b"exact"
    assert body(srv.port, "/a/b.txt", "x.wild.example") == b"regex"
    assert body(srv.port, "/stop/b.txt", "x.wild.example") == b"stop"


def test_unix_and_reuseport_listeners(srv):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(str(srv.prefix / "sock"))
    assert body(0, "/", "x", sock=s) == b"unix or reuseport"
    for _ in range(4):
        assert body(srv.port2, "/", "x") == b"unix or reuseport"


def test_access_log_off(srv):
    body(srv.port, "/", "first.example")
    body(srv.port, "/", "b.wild.example")
    time.sleep(0.05)
    text = (srv.prefix / "logs" / "access.log").read_text()
    assert '"GET / HTTP/1.1" 200 5' in text and '200 4 "-"' not in text
