"""cosocket.redis pub/sub against a real redis-server: the scenarios of lua-resty-redis's t/pubsub.t,
and the sharded commands (ssubscribe / spublish / sunsubscribe) read with read_reply."""
import pytest

from cosocket import log

from .redisclient import connected


@pytest.fixture
def pair(redis_server, fresh_pools):  # noqa: F811
    """Two connected clients (subscriber, publisher) with 1 s timeouts; closed at the end."""
    clients = [connected(redis_server) for _ in range(2)]
    log.configure([("stderr", "crit")])  # lua_socket_log_errors off, as upstream's tests set it
    yield clients
    log.configure([("stderr", "error")])
    for r in clients:
        r.close()


def test_single_channel(pair):
    red, red2 = pair
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    assert red2.publish("dog", "Hello") == (1, None)
    assert red.read_reply() == ([b"message", b"dog", b"Hello"], None)


def test_read_reply_timeouts_then_unsubscribe(pair):
    red, red2 = pair
    red.set_timeout(100)
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    for _ in range(2):
        assert red.read_reply() == (None, "timeout")
    assert red.unsubscribe() == ([b"unsubscribe", b"dog", 0], None)
    assert red2.publish("dog", "Hello") == (0, None)
    assert red.read_reply() == (None, "not subscribed")
    assert red.unsubscribe() == (None, "not subscribed")


def test_multiple_channels(pair):
    red, red2 = pair
    red.set_timeout(100)
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    assert red.subscribe("cat") == ([b"subscribe", b"cat", 2], None)
    assert red2.publish("dog", "Hello") == (1, None)
    assert red.read_reply() == ([b"message", b"dog", b"Hello"], None)
    assert red.read_reply() == (None, "timeout")
    res, err = red.unsubscribe()
    assert err is None
    assert sorted(r[1] for r in res) == [b"cat", b"dog"]
    assert [(r[0], r[2]) for r in res] == [(b"unsubscribe", 1), (b"unsubscribe", 0)]
    assert red.read_reply() == (None, "not subscribed")
    assert red.read_reply() == (None, "not subscribed")


def test_subscribe_after_read_reply_timed_out(pair):
    red, _ = pair
    red.set_timeout(100)
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    for _ in range(2):
        assert red.read_reply() == (None, "timeout")
    assert red.subscribe("cat") == ([b"subscribe", b"cat", 2], None)


def test_set_keepalive_refused_while_subscribed_after_timeouts(pair):
    red, _ = pair
    red.set_timeout(100)
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    for _ in range(2):
        assert red.read_reply() == (None, "timeout")
    assert red.set_keepalive() == (None, "subscribed state")


def test_set_keepalive_refused_while_subscribed(pair):
    red, _ = pair
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    assert red.set_keepalive() == (None, "subscribed state")


def test_set_keepalive_after_unsubscribe(pair):
    red, _ = pair
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    assert red.unsubscribe() == ([b"unsubscribe", b"dog", 0], None)
    assert red.set_keepalive() == (1, None)


def test_messages_arriving_before_a_command_reply_wait_for_read_reply(pair):
    red, red2 = pair
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    assert red2.publish("dog", "Hello") == (1, None)
    assert red.ping() == ([b"pong", b""], None)
    assert red2.publish("dog", "World") == (1, None)
    assert red.read_reply() == ([b"message", b"dog", b"Hello"], None)
    assert red.read_reply() == ([b"message", b"dog", b"World"], None)
    assert red.unsubscribe() == ([b"unsubscribe", b"dog", 0], None)
    red.set_timeout(1)
    assert red.read_reply() == (None, "not subscribed")


def test_multiple_subscribe(pair):
    red, _ = pair
    assert red.subscribe("dog", "cat") == ([[b"subscribe", b"dog", 1], [b"subscribe", b"cat", 2]], None)
    assert red.unsubscribe("dog") == ([b"unsubscribe", b"dog", 1], None)
    assert red.unsubscribe("cat") == ([b"unsubscribe", b"cat", 0], None)


def test_multiple_unsubscribe(pair):
    red, _ = pair
    red.subscribe("dog")
    red.subscribe("cat")
    res, err = red.unsubscribe()
    assert err is None
    assert sorted(r[1] for r in res) == [b"cat", b"dog"]
    assert [(r[0], r[2]) for r in res] == [(b"unsubscribe", 1), (b"unsubscribe", 0)]


def test_multiple_psubscribe(pair):
    red, _ = pair
    assert red.psubscribe("dog", "cat") == ([[b"psubscribe", b"dog", 1], [b"psubscribe", b"cat", 2]], None)
    assert red.punsubscribe("dog") == ([b"punsubscribe", b"dog", 1], None)
    assert red.punsubscribe("cat") == ([b"punsubscribe", b"cat", 0], None)


def test_multiple_punsubscribe(pair):
    red, _ = pair
    red.psubscribe("dog")
    red.psubscribe("cat")
    res, err = red.punsubscribe()
    assert err is None
    assert sorted(r[1] for r in res) == [b"cat", b"dog"]
    assert [(r[0], r[2]) for r in res] == [(b"punsubscribe", 1), (b"punsubscribe", 0)]


def test_mix_read_reply_subscribe_and_psubscribe(pair):
    red, red2 = pair
    assert red.subscribe("two") == ([b"subscribe", b"two", 1], None)
    assert red.psubscribe("t*o") == ([b"psubscribe", b"t*o", 2], None)
    assert red2.publish("two", "foo") == (2, None)
    assert red2.publish("too", "bar") == (1, None)
    assert red2.publish("too", "baz") == (1, None)
    got = {tuple(red.read_reply()[0]) for _ in range(2)}
    assert got == {(b"message", b"two", b"foo"), (b"pmessage", b"t*o", b"two", b"foo")}
    # the pattern's pending messages go with it
    assert red.punsubscribe() == ([b"punsubscribe", b"t*o", 1], None)
    assert red.subscribe("three") == ([b"subscribe", b"three", 2], None)
    assert red2.publish("three", "foo") == (1, None)
    assert red2.publish("two", "bar") == (1, None)
    # the message on "three" is dropped with its channel, the one on "two" is kept
    assert red.unsubscribe("three") == ([b"unsubscribe", b"three", 1], None)
    assert red.read_reply() == ([b"message", b"two", b"bar"], None)
    assert red.unsubscribe() == ([b"unsubscribe", b"two", 0], None)


def test_sharded_pubsub_with_read_reply(pair):
    red, red2 = pair
    assert red.ssubscribe("room") == ([b"ssubscribe", b"room", 1], None)
    assert red2.spublish("room", "hi") == (1, None)
    assert red.read_reply() == ([b"smessage", b"room", b"hi"], None)
    assert red.set_keepalive() == (None, "subscribed state")
    assert red.ssubscribe("a", "b") == ([[b"ssubscribe", b"a", 2], [b"ssubscribe", b"b", 3]], None)
    assert red2.spublish("b", "x") == (1, None)
    assert red.ping() == ([b"pong", b""], None)
    assert red.read_reply() == ([b"smessage", b"b", b"x"], None)
    assert red.sunsubscribe("a", "b") == ([[b"sunsubscribe", b"a", 2], [b"sunsubscribe", b"b", 1]], None)
    assert red.sunsubscribe() == ([b"sunsubscribe", b"room", 0], None)
    assert red.read_reply() == (None, "not subscribed")
    assert red.set_keepalive() == (1, None)


def test_sharded_and_plain_subscriptions_end_separately(pair):
    red, red2 = pair
    assert red.subscribe("dog") == ([b"subscribe", b"dog", 1], None)
    assert red.ssubscribe("room") == ([b"ssubscribe", b"room", 1], None)
    assert red.sunsubscribe() == ([b"sunsubscribe", b"room", 0], None)
    # still subscribed to "dog"
    assert red2.publish("dog", "woof") == (1, None)
    assert red.read_reply() == ([b"message", b"dog", b"woof"], None)
    assert red.unsubscribe() == ([b"unsubscribe", b"dog", 0], None)
    assert red.read_reply() == (None, "not subscribed")

