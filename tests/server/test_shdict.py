"""lua_shared_dict semantics (lua-resty-core's API) on a zone in shared memory."""
import os
import time

import pytest
from hypothesis import given, settings, strategies as st

from cosocket import shdict
from cosocket.shdict import SharedDict


@pytest.fixture
def d():
    return SharedDict.create("test", 1 << 20)


def test_values_keep_their_type(d):
    for key, value in [("s", "héllo"), ("b", b"\x00\xff"), ("i", 42), ("neg", -7), ("f", 1.5),
                       ("t", True), ("false", False), ("big", 1 << 80), ("empty", ""), ("eb", b"")]:
        assert d.set(key, value) == (True, None, False)
        got, flags = d.get(key)
        assert got == value and type(got) is type(value) and flags is None


def test_flags_are_returned_only_when_not_zero(d):
    d.set("k", "v", 0, 7)
    assert d.get("k") == ("v", 7)
    d.set("k", "v", 0, 0)
    assert d.get("k") == ("v", None)


def test_key_errors_and_number_keys(d):
    assert d.get(None) == (None, "nil key")
    assert d.set(None, 1) == (None, "nil key", None)
    assert d.get("") == (None, "empty key")
    assert d.set("x" * 65536, 1) == (None, "key too long", None)
    assert d.set(1, "one") == (True, None, False)
    assert d.get("1") == ("one", None)  # Lua's tostring(1)
    assert d.set("k", {"a": 1}) == (None, "bad value type", None)
    with pytest.raises(TypeError):
        d.get(object())
    with pytest.raises(ValueError, match='bad "exptime" argument'):
        d.set("k", 1, -1)
    with pytest.raises(TypeError):
        d.set("k", 1, 0, "flags")


def test_str_and_bytes_keys_are_the_same_lua_string(d):
    d.set("k", 1)
    assert d.get(b"k") == (1, None)
    assert d.get_keys() == ["k"]
    d.set(b"raw", 2)
    assert d.get_keys() == ["k", b"raw"]


def test_missing_key_and_delete(d):
    assert d.get("nope") == (None, None)
    d.set("k", "v")
    assert d.delete("k") == (True, None, False)
    assert d.get("k") == (None, None)
    d.set("k", "v")
    assert d.set("k", None) == (True, None, False)
    assert d.get("k") == (None, None)
    assert d.delete("never") == (True, None, False)


def test_add_and_replace(d):
    assert d.add("k", 1) == (True, None, False)
    assert d.add("k", 2) == (False, "exists", False)
    assert d.safe_add("k", 2) == (False, "exists", False)
    assert d.get("k") == (1, None)
    assert d.replace("k", "two") == (True, None, False)
    assert d.get("k") == ("two", None)
    assert d.replace("other", 1) == (False, "not found", False)
    assert d.add("k", None) == (False, "attempt to add or replace nil values", False)
    assert d.replace("k", None) == (False, "attempt to add or replace nil values", False)


def test_a_bigger_value_replaces_a_smaller_one(d):
    d.set("k", "x")
    d.set("k", "y" * 5000)
    assert d.get("k") == ("y" * 5000, None)
    d.set("k", 3)
    assert d.get("k") == (3, None)
    assert d.get_keys() == ["k"]


def test_expiry_get_stale_ttl_and_expire(d):
    d.set("k", "v", 0.05, 3)
    ttl, err = d.ttl("k")
    assert err is None and 0 < ttl <= 0.05
    assert d.add("k", "again") == (False, "exists", False)
    time.sleep(0.07)
    assert d.get_stale("k") == ("v", 3, True)
    assert d.get("k") == (None, None)
    assert d.replace("k", 1) == (False, "not found", False)
    assert d.add("k", "again") == (True, None, False)  # an expired key may be added
    assert d.get_stale("k") == ("again", None, False)
    assert d.ttl("k") == (0, None)
    assert d.ttl("missing") == (None, "not found")
    assert d.expire("k", 0.05) == (True, None)
    assert 0 < d.ttl("k")[0] <= 0.05
    assert d.expire("k", 0) == (True, None)
    assert d.ttl("k") == (0, None)
    assert d.expire("missing", 1) == (None, "not found")
    with pytest.raises(ValueError):
        d.expire("k", None)


def test_incr(d):
    assert d.incr("n", 1) == (None, "not found", None)
    assert d.incr("n", 1, 10) == (11, None, False)
    assert d.incr("n", 2) == (13, None, None)  # without init Lua returns the number alone
    assert d.incr("n", 0.5) == (13.5, None, None)
    d.set("s", "10")
    assert d.incr("s", 1) == (None, "not a number", None)
    assert d.incr("s", 1, 0) == (None, "not a number", None)
    d.set("flagged", 1, 0, 9)
    assert d.incr("flagged", 1) == (2, None, None)
    assert d.get("flagged") == (2, 9)
    assert d.incr("big", 1, (1 << 63) - 1) == (1 << 63, None, False)
    assert d.incr("big", 1) == ((1 << 63) + 1, None, None)
    with pytest.raises(TypeError):
        d.incr("n", "1")
    with pytest.raises(TypeError, match="bad init arg"):
        d.incr("n", 1, "0")
    with pytest.raises(ValueError, match='must provide "init"'):
        d.incr("n", 1, None, 10)
    with pytest.raises(ValueError, match='bad "init_ttl" argument'):
        d.incr("n", 1, 0, -1)


def test_incr_init_ttl_and_expired_entries(d):
    assert d.incr("t", 1, 0, 0.05) == (1, None, False)
    assert d.incr("t", 1) == (2, None, None)  # keeps the expiry
    assert 0 < d.ttl("t")[0] <= 0.05
    time.sleep(0.07)
    assert d.incr("t", 1) == (None, "not found", None)
    assert d.incr("t", 1, 100) == (101, None, False)
    assert d.ttl("t") == (0, None)


def test_lists(d):
    assert d.lpush("l", "b") == (1, None)
    assert d.lpush("l", b"a") == (2, None)
    assert d.rpush("l", 3) == (3, None)
    assert d.rpush("l", 4.5) == (4, None)
    assert d.llen("l") == (4, None)
    assert d.get("l") == (None, "value is a list")
    assert d.lpop("l") == (b"a", None)
    assert d.rpop("l") == (4.5, None)
    assert d.rpop("l") == (3, None)
    assert d.lpop("l") == ("b", None)
    assert d.lpop("l") == (None, None)
    assert d.llen("l") == (0, None)
    assert d.get_keys() == []  # the emptied list is removed
    d.set("s", "x")
    assert d.lpush("s", 1) == (None, "value not a list")
    assert d.lpop("s") == (None, "value not a list")
    assert d.llen("s") == (None, "value not a list")
    assert d.lpush("l", True) == (None, "bad value type")
    assert d.lpush(None, 1) == (None, "nil key")
    d.rpush("l", 1)
    d.set("l", "plain")  # set replaces a list
    assert d.get("l") == ("plain", None)


def test_list_frees_its_nodes(d):
    before = d.free_space()
    for i in range(100):
        d.rpush("l", "x" * 100)
    assert d.free_space() < before
    d.delete("l")
    assert d.free_space() == before


def test_flush_all_flush_expired_and_get_keys(d):
    for i in range(5):
        d.set("k%d" % i, i)
    d.get("k0")  # k0 becomes the most recently used
    assert d.get_keys() == ["k1", "k2", "k3", "k4", "k0"]
    assert d.get_keys(2) == ["k1", "k2"]
    before = d.free_space()
    assert d.flush_all() is None
    assert d.get_stale("k3") == (3, None, True)
    assert d.get("k1") == (None, None)  # also drops the two expired entries at the LRU tail (k1, k2)
    assert d.get_stale("k2") == (None, None, None)
    assert d.get_keys(0) == []
    assert d.flush_expired(1) == 1
    assert d.flush_expired() == 2
    assert d.free_space() > before
    assert d.flush_expired() == 0


def test_capacity_and_free_space(d):
    assert d.capacity() == 1 << 20
    free = d.free_space()
    assert 0.9 * (1 << 20) < free < 1 << 20
    d.set("k", "x" * 10000)
    assert free - 10100 < d.free_space() <= free - 10000


def test_full_zone_evicts_least_recently_used():
    d = SharedDict.create("small", 16384)
    n = 0
    while True:
        ok, err, forcible = d.set("key%d" % n, "v" * 100)
        assert ok and err is None
        if forcible:
            break
        n += 1
        assert n < 1000
    assert n > 50
    assert d.get("key0") == (None, None)  # the oldest went first
    assert d.get("key%d" % n) == ("v" * 100, None)
    assert d.safe_set("another", "v" * 100) == (False, "no memory", False)
    assert d.safe_add("another", "v" * 100) == (False, "no memory", False)
    assert d.add("another", "v" * 100)[0::2] == (True, True)
    ok, err, forcible = d.set("huge", "x" * 20000)  # cannot fit even in an empty zone
    assert (ok, err) == (False, "no memory") and forcible is True


def test_eviction_order_is_lru():
    d = SharedDict.create("lru", 16384)
    count = 0
    while d.safe_set("k%d" % count, "v" * 200)[0]:
        count += 1
    d.get("k0")  # touched: no longer the oldest
    ok, err, forcible = d.set("new", "w" * 400)  # needs two entries' room
    assert ok and forcible
    assert d.get("k0")[0] is not None
    assert d.get("k1") == (None, None) and d.get("k2") == (None, None)
    assert d.get("k3")[0] is not None
    assert d.get("new") == ("w" * 400, None)


def test_incr_evicts_when_full():
    d = SharedDict.create("incr", 8192)
    i = 0
    while d.set("k%d" % i, "x" * 50)[2] is False:
        i += 1
    assert d.incr("counter", 1, 0) == (1, None, True)


def test_a_forked_process_shares_the_zone(d):
    d.set("parent", "p")
    pid = os.fork()
    if pid == 0:  # child
        try:
            ok = d.get("parent") == ("p", None) and d.set("child", "c")[0]
            d.incr("n", 1, 0)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert d.get("child") == ("c", None)
    assert d.incr("n", 1) == (2, None, None)


def test_configure_keeps_zones_of_the_same_name_and_size():
    try:
        zones = shdict.configure([("a", 65536), ("b", 65536)])
        zones["a"].set("k", 1)
        zones["b"].set("k", 2)
        again = shdict.configure([("a", 65536), ("b", 131072)])
        assert again["a"] is zones["a"] and again["a"].get("k") == (1, None)
        assert again["b"].get("k") == (None, None) and again["b"].capacity() == 131072
    finally:
        shdict.configure([])
    assert shdict.zones == {}


def test_outside_the_server_ngx_shared_is_empty():
    from cosocket import ngx
    assert dict(ngx.shared) == {}
    assert ngx.shared.nope is None and ngx.shared["nope"] is None  # Lua: nil


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "get", "delete", "add", "incr"]),
                          st.sampled_from(["a", "b", "c", "d"]),
                          st.one_of(st.integers(-5, 5), st.text(max_size=40), st.binary(max_size=300)))))
def test_behaves_like_a_dict_while_there_is_room(ops):
    d = SharedDict.create("model", 65536)
    model = {}
    for op, key, value in ops:
        if op == "set":
            assert d.set(key, value) == (True, None, False)
            model[key] = value
        elif op == "get":
            assert d.get(key) == (model.get(key), None)
        elif op == "delete":
            d.delete(key)
            model.pop(key, None)
        elif op == "add":
            ok, err, _ = d.add(key, value)
            assert ok == (key not in model) and err == (None if ok else "exists")
            model.setdefault(key, value)
        else:
            current = model.get(key, 0)
            got = d.incr(key, 1, 0)
            if isinstance(current, int):
                model[key] = current + 1
                assert got == (current + 1, None, False)
            else:
                assert got == (None, "not a number", None)
    assert sorted(d.get_keys(0)) == sorted(model)
