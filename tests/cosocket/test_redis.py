"""cosocket.redis against a real redis-server: the scenarios of lua-resty-redis's t/sanity.t,
plus unix sockets, TLS, options tables passed through to the socket, binary values and auth."""

import gevent
import pytest

from cosocket import redis, runtime
from cosocket.confmodel import HttpSettings
from cosocket.text import null
from tests.support.netfaults import full_backlog, refused_port

from .redisclient import pause_others


@pytest.fixture
def trusted(tls_files):
    """lua_ssl_trusted_certificate set to the test CA for the duration of the test."""
    saved = runtime.worker.http_settings
    runtime.worker.http_settings = HttpSettings()
    runtime.worker.http_settings.socket.ssl_trusted_certificate = str(tls_files / "ca.pem")
    yield
    runtime.worker.http_settings = saved


def test_set_and_get_twice_after_select(red):
    assert red.select(1) == ("OK", None)
    assert red.set("dog", "an animal") == ("OK", None)
    for _ in range(2):
        assert red.get("dog") == (b"an animal", None)
    assert red.select(0) == ("OK", None)
    assert red.get("dog") == (null, None)


def test_flushall_answers_ok(red):
    assert red.flushall() == ("OK", None)


def test_nil_bulk_reply_is_ngx_null(red):
    for _ in range(2):
        res, err = red.get("not_found")
        assert res is null and err is None


def test_empty_multi_bulk_is_an_empty_list(red):
    for _ in range(2):
        assert red.lrange("nokey", 0, 1) == ([], None)


def test_incr_and_decr(red):
    assert red.set("connections", 10) == ("OK", None)
    assert red.incr("connections") == (11, None)
    assert red.incr("connections") == (12, None)
    assert red.decr("connections") == (11, None)
    assert red.get("connections") == (b"11", None)
    assert red.del_("connections") == (1, None)
    assert red.incr("connections") == (1, None)
    assert red.get("connections") == (b"1", None)


def test_error_reply_is_false_and_message(red):
    assert red.incr() == (False, "ERR wrong number of arguments for 'incr' command")
    assert red.ping() == ("PONG", None)  # the connection is still usable


def test_lpush_and_lrange(red):
    assert red.lpush("mylist", "world") == (1, None)
    assert red.lpush("mylist", "hello") == (2, None)
    assert red.lrange("mylist", 0, -1) == ([b"hello", b"world"], None)


def test_blpop_expires_its_own_timeout(red):
    red.set_timeout(2500)
    res, err = red.blpop("key", 1)
    assert res is null and err is None


def test_blpop_read_timeout_keeps_the_connection(red, errlog):
    red.set_timeout(200)
    assert red.blpop("key", 1) == (None, "timeout")
    assert "lua tcp socket read timed out" in errlog()
    # a blocking command's timeout leaves the socket open (the object is now in blocking mode)
    assert red.close() == (1, None)


def test_read_timeout_of_a_plain_command_closes_the_connection(red, redis_server):  # noqa: F811
    other = pause_others(redis_server, 400)
    red.set_timeouts(1000, 1000, 100)
    assert red.get("dog") == (None, "timeout")
    assert red.close() == (None, "closed")
    other.close()
    gevent.sleep(0.45)


def test_set_timeouts_read_timeout_on_blpop(red):
    red.set_timeouts(1000, 1000, 100)
    assert red.blpop("key", 1) == (None, "timeout")


def test_set_keepalive_and_get_reused_times(red, redis_server):  # noqa: F811
    assert red.get_reused_times() == (0, None)
    assert red.set_keepalive() == (1, None)
    assert red.get("dog") == (None, "closed")
    assert red.connect("127.0.0.1", redis_server.port) == (1, None)
    assert red.get_reused_times() == (1, None)


def test_mget_mixes_values_and_null(red):
    assert red.set("dog", "an animal") == ("OK", None)
    for _ in range(2):
        assert red.mget("dog", "cat", "dog") == ([b"an animal", null, b"an animal"], None)


def test_hmset_with_a_dict_then_hmget_and_array_to_hash(red):
    assert red.hmset("animals", {"dog": "bark", "cat": "meow", "cow": "moo"}) == ("OK", None)
    assert red.hmget("animals", "dog", "cat", "cow") == ([b"bark", b"meow", b"moo"], None)
    res, err = red.hgetall("animals")
    assert err is None
    assert red.array_to_hash(res) == {b"dog": b"bark", b"cat": b"meow", b"cow": b"moo"}


def test_hmset_with_field_value_arguments(red):
    assert red.hmset("myhash", "field1", "Hello", "field2", "World") == ("OK", None)
    assert red.hmget("myhash", "field1", "field2", "nofield") == ([b"Hello", b"World", null], None)


def test_boolean_args_and_a_trailing_nil(red):
    assert red.set("foo", True) == ("OK", None)
    assert red.get("foo") == (b"true", None)
    assert red.set("foo", False) == ("OK", None)
    assert red.get("foo") == (b"false", None)
    assert red.set("foo", None) == (False, "ERR wrong number of arguments for 'set' command")
    assert red.get("foo") == (b"false", None)
    assert red.set_keepalive(10, 10) == (1, None)


def test_numbers_are_sent_as_lua_prints_them(red):
    assert red.set("n", 3.5) == ("OK", None)
    assert red.get("n") == (b"3.5", None)
    assert red.set("n", 1e15) == ("OK", None)
    assert red.get("n") == (b"1e+15", None)


def test_binary_and_large_values_round_trip(red):
    blob = bytes(range(256)) * 4 + b"\r\n\r\n\x00end"
    assert red.set(b"bin\r\nkey", blob) == ("OK", None)
    assert red.get(b"bin\r\nkey") == (blob, None)
    big = b"x" * (1 << 20) + b"\r\n"
    assert red.set("big", big) == ("OK", None)
    assert red.get("big") == (big, None)
    assert red.strlen("big") == (len(big), None)
    assert red.set("utf8", "héllo") == ("OK", None)
    assert red.get("utf8") == ("héllo".encode(), None)


def test_connection_refused():
    port = refused_port()
    red, _ = redis.new()
    red.set_timeout(10000)
    assert red.connect("127.0.0.1", port) == (None, "connection refused")


def test_set_timeouts_connect_timeout(errlog):
    with full_backlog() as port:
        red, _ = redis.new()
        red.set_timeouts(100, 1000, 1000)
        assert red.connect("127.0.0.1", port) == (None, "timeout")
        assert "lua tcp socket connect timed out" in errlog()


@pytest.mark.parametrize("args, message", [
    ((True,), "bad argument #1 host: string expected, got boolean"),
    ((None,), "bad argument #1 host: string expected, got nil"),
    (("127.0.0.1", None), "bad argument #2 port: number expected, got nil"),
    (("127.0.0.1", True), "bad argument #2 port: number expected, got boolean"),
    (("127.0.0.1", "foo"), "bad argument #2 port: number expected, got string"),
    (("127.0.0.1", 6379, True), "bad argument #3 opts: nil or table expected, got boolean"),
    (("unix:", True), "bad argument #2 opts: nil or table expected, got boolean"),
    (("_unix:", True), "bad argument #2 port: number expected, got boolean"),
])
def test_connect_bad_arguments_raise(args, message):
    red, _ = redis.new()
    with pytest.raises(TypeError) as info:
        red.connect(*args)
    assert str(info.value) == message


def test_connect_accepts_the_port_as_a_string(redis_server):  # noqa: F811
    red, _ = redis.new()
    red.set_timeout(1000)
    assert red.connect("127.0.0.1", str(redis_server.port)) == (1, None)
    assert red.ping() == ("PONG", None)
    red.close()


def test_unix_socket(redis_server, fresh_pools):  # noqa: F811
    red, _ = redis.new()
    red.set_timeout(1000)
    assert red.connect("unix:" + redis_server.unix_path) == (1, None)
    assert red.set("dog", "an animal") == ("OK", None)
    assert red.get("dog") == (b"an animal", None)
    assert red.set_keepalive() == (1, None)
    assert red.connect("unix:" + redis_server.unix_path, {"pool_size": 2}) == (1, None)
    assert red.get_reused_times() == (1, None)
    red.close()


def test_options_table_goes_to_the_socket_with_its_other_keys(redis_server, fresh_pools):  # noqa: F811
    opts = {"pool": "redis-pool", "pool_size": 1, "ssl": False, "ssl_verify": False}
    red, _ = redis.new()
    red.set_timeout(1000)
    assert red.connect("127.0.0.1", redis_server.port, opts) == (1, None)
    assert red.set_keepalive() == (1, None)
    assert red.connect("127.0.0.1", redis_server.port, opts) == (1, None)
    assert red.get_reused_times() == (1, None)
    # the custom pool name keys the pool: the default "host:port" pool is another one
    plain, _ = redis.new()
    assert plain.connect("127.0.0.1", redis_server.port) == (1, None)
    assert plain.get_reused_times() == (0, None)
    plain.close()
    red.close()


def test_tls_with_verification_and_sni(redis_server, trusted, fresh_pools):  # noqa: F811
    if redis_server.tls_port is None:
        pytest.skip("this redis-server was built without TLS")
    opts = {"ssl": True, "ssl_verify": True, "server_name": "localhost"}
    red, _ = redis.new()
    red.set_timeout(2000)
    assert red.connect("127.0.0.1", redis_server.tls_port, opts) == (1, None)
    assert red.set("dog", "an animal") == ("OK", None)
    assert red.get("dog") == (b"an animal", None)
    assert red.set_keepalive() == (1, None)
    assert red.connect("127.0.0.1", redis_server.tls_port, opts) == (1, None)
    assert red.get_reused_times() == (1, None)
    assert red.get("dog") == (b"an animal", None)
    red.close()


def test_tls_verification_failure_is_reported(redis_server, fresh_pools):  # noqa: F811
    if redis_server.tls_port is None:
        pytest.skip("this redis-server was built without TLS")
    red, _ = redis.new()
    red.set_timeout(2000)
    ok, err = red.connect("127.0.0.1", redis_server.tls_port, {"ssl": True, "ssl_verify": True})
    assert ok is None
    assert err.startswith("failed to do ssl handshake: ")
    assert "certificate" in err


def test_auth_with_acl_user(red):
    assert red.acl("setuser", "alice", "on", ">s3cret", "~*", "+@all") == ("OK", None)
    try:
        ok, err = red.auth("alice", "wrong")
        assert ok is False and err.startswith("WRONGPASS")
        assert red.auth("alice", "s3cret") == ("OK", None)
        assert red.acl("whoami") == (b"alice", None)
    finally:
        red.auth("default", "")
        red.acl("deluser", "alice")


def test_auth_without_a_configured_password_is_an_error_reply(red):
    ok, err = red.auth("foobared")
    assert ok is False and err.startswith("ERR AUTH")


def test_unknown_command_is_an_error_reply_and_add_commands(red):
    redis.add_commands("foo", "bar")
    ok, err = red.foo("a")
    assert ok is False and err.startswith("ERR unknown command 'foo'")
    ok, err = red.bar()
    assert ok is False and err.startswith("ERR unknown command 'bar'")


def test_module_prefix_names_the_command(red):
    redis.register_module_prefix("bf")
    ok, err = red.bf().add("dog", 1)
    assert ok is False and err.startswith("ERR unknown command 'bf.add'")
    assert red.ping() == ("PONG", None)  # the prefix applied to one call only


def test_commands_are_methods_made_on_first_use(red):
    assert red.rpush("l", "a", "b", "c") == (3, None)
    assert red.llen("l") == (3, None)
    assert red.type("l") == ("list", None)
    assert red.exists("l", "nokey") == (1, None)
    assert red.echo("hi") == (b"hi", None)
    with pytest.raises(AttributeError):
        red._private_name


def test_missing_redis_server_skips_naming_the_debian_package(monkeypatch):
    from tests.support import redisserver
    monkeypatch.setattr(redisserver, "BINARY_CANDIDATES", ("/nonexistent/redis-server",))
    with pytest.raises(pytest.skip.Exception, match=r"Debian package: redis-server"):
        redisserver.require_binary()
