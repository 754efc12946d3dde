"""connect's options: a dict is a Lua table (unused keys ignored), keyword arguments are Python."""
import pytest
from gevent.server import StreamServer

from cosocket import ngx


@pytest.fixture
def port():
    srv = StreamServer(("127.0.0.1", 0), lambda s, addr: s.recv(1))
    srv.start()
    yield srv.server_port
    srv.stop(timeout=0.1)


def test_options_dict_ignores_keys_connect_does_not_use(port, fresh_pools):
    sock = ngx.socket.tcp()
    opts = {"ssl": True, "ssl_verify": False, "server_name": "x", "pool": "p1", "pool_size": 2}
    assert sock.connect("127.0.0.1", port, opts) == (1, None)
    assert sock.setkeepalive() == (1, None)
    assert sock.connect("127.0.0.1", port, {"pool": "p1", "whatever": 1}) == (1, None)
    assert sock.getreusedtimes() == (1, None)
    sock.close()


def test_unknown_keyword_argument_still_raises(port):
    with pytest.raises(TypeError, match='unknown option "ssl"'):
        ngx.socket.tcp().connect("127.0.0.1", port, ssl=True)


def test_known_options_in_a_dict_are_still_checked(port):
    with pytest.raises(TypeError, match="bad \"pool_size\" option value: 0"):
        ngx.socket.tcp().connect("127.0.0.1", port, {"pool_size": 0, "ssl": True})
