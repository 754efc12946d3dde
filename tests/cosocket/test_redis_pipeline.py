"""cosocket.redis pipelines and transactions against a real redis-server: the scenarios of
lua-resty-redis's t/pipeline.t and t/transaction.t."""
import gevent

from cosocket.text import null

from .redisclient import connected, pause_others


def queue_four(red):
    assert red.set("dog", "an animal") == (None, None)  # queued, nothing sent
    red.get("dog")
    red.set("dog", "hello")
    red.get("dog")


def test_basic(red):
    for _ in range(2):
        red.init_pipeline()
        queue_four(red)
        assert red.commit_pipeline() == (["OK", b"an animal", "OK", b"hello"], None)


def test_init_pipeline_again_discards_the_queue(red):
    red.init_pipeline()
    red.set("dog", "an animal")
    red.get("dog")
    for _ in range(2):
        red.init_pipeline(4)
        queue_four(red)
        assert red.commit_pipeline() == (["OK", b"an animal", "OK", b"hello"], None)


def test_cancel_explicitly(red):
    red.init_pipeline()
    red.set("dog", "an animal")
    red.get("dog")
    red.cancel_pipeline()
    assert red.get("dog") == (null, None)  # nothing was sent
    assert red.flushall() == ("OK", None)
    for _ in range(2):
        red.init_pipeline()
        queue_four(red)
        assert red.commit_pipeline() == (["OK", b"an animal", "OK", b"hello"], None)
    red.cancel_pipeline()  # a no-op outside pipeline mode


def test_mixed_with_plain_commands(red):
    assert red.set("dog", "an aniaml") == ("OK", None)
    assert red.get("dog") == (b"an aniaml", None)
    red.init_pipeline()
    red.set("cat", "Marry")
    red.set("horse", "Bob")
    red.get("cat")
    red.get("horse")
    assert red.commit_pipeline() == (["OK", "OK", b"Marry", b"Bob"], None)
    assert red.set_keepalive(10000, 100) == (1, None)


def test_error_reply_inside_a_pipeline(red):
    red.init_pipeline()
    red.del_("dog")
    red.set("dog", "an animal")
    red.hget("dog", "field")
    red.get("dog")
    results, err = red.commit_pipeline()
    assert err is None
    assert results == [0, "OK", [False, "WRONGTYPE Operation against a key holding the wrong kind of value"],
                       b"an animal"]
    assert red.set_keepalive(10000, 100) == (1, None)


def test_commit_without_init_is_an_error(red):
    assert red.commit_pipeline() == (None, "no pipeline")
    red.init_pipeline()
    assert red.commit_pipeline() == ([], None)
    assert red.commit_pipeline() == (None, "no pipeline")


def test_pipeline_read_timeout_closes_the_connection(red, redis_server):  # noqa: F811
    other = pause_others(redis_server, 300)
    red.set_timeouts(1000, 1000, 100)
    red.init_pipeline()
    red.get("dog")
    assert red.commit_pipeline() == (None, "timeout")
    assert red.close() == (None, "closed")
    other.close()
    gevent.sleep(0.35)


def test_transaction_sort_queued(red):
    assert red.multi() == ("OK", None)
    assert red.sort("log", "by", "1234:*->timestamp") == ("QUEUED", None)
    assert red.exec() == ([[]], None)
    assert red.set_keepalive(0, 1024) == (1, None)


def test_transaction_does_not_halt_on_errors(red):
    assert red.multi() == ("OK", None)
    assert red.set("a", "abc") == ("QUEUED", None)
    assert red.lpop("a") == ("QUEUED", None)
    assert red.exec() == (["OK", [False, "WRONGTYPE Operation against a key holding the wrong kind of value"]],
                          None)


def test_discard_and_a_watched_key_aborting_exec(red, redis_server):  # noqa: F811
    assert red.multi() == ("OK", None)
    assert red.set("a", "1") == ("QUEUED", None)
    assert red.discard() == ("OK", None)
    assert red.get("a") == (null, None)
    assert red.watch("a") == ("OK", None)
    other = connected(redis_server)
    assert other.set("a", "changed") == ("OK", None)
    other.close()
    assert red.multi() == ("OK", None)
    assert red.set("a", "2") == ("QUEUED", None)
    res, err = red.exec()
    assert res is null and err is None  # a nil multi-bulk reply
    assert red.get("a") == (b"changed", None)
