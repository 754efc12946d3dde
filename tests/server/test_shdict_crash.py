"""A shared dict zone survives processes killed (SIGKILL) in the middle of their writes.

Writer processes fork from the test, share one small zone (full, so sets evict and pushes run
out of room) and run random set / delete / rpush / lpop / incr / get; the test kills one at a
random moment, reaps it and starts another, 150 times.  Afterwards the zone must be consistent
(every entry reachable through its hash chain and the LRU list, counts and free units right),
and every operation on every key must work."""
import os
import random
import signal
import time

import pytest

from cosocket.shdict import SharedDict
from tests.support.logcapture import log_file

KILLS = 150
WRITERS = 2
KEYS = ["k%d" % i for i in range(48)]
LISTS = ["l%d" % i for i in range(8)]
COUNTERS = ["n%d" % i for i in range(4)]


def random_value(rnd):
    kind = rnd.random()
    if kind < 0.4:
        return "v" * rnd.randrange(0, 700)
    if kind < 0.7:
        return os.urandom(rnd.randrange(0, 300))
    if kind < 0.85:
        return rnd.randrange(-10 ** 12, 10 ** 12)
    return rnd.random()


def writer(d, seed):
    rnd = random.Random(seed)
    while True:
        op = rnd.random()
        if op < 0.30:
            d.set(rnd.choice(KEYS), random_value(rnd), rnd.choice((0, 0, 0, 0.005)))
        elif op < 0.42:
            d.delete(rnd.choice(KEYS))
        elif op < 0.62:
            d.rpush(rnd.choice(LISTS), random_value(rnd))
        elif op < 0.77:
            d.lpop(rnd.choice(LISTS))
        elif op < 0.87:
            d.incr(rnd.choice(COUNTERS), rnd.choice((1, 2.5)), 0)
        else:
            d.get(rnd.choice(KEYS))


def spawn(d, seed):
    pid = os.fork()
    if pid == 0:
        try:
            writer(d, seed)
        finally:
            os._exit(0)
    return pid


def exercise_every_key(d):
    """Every read and write on every key the zone lists, and the ones the writers use."""
    names = set(d.get_keys(0)) | set(KEYS) | set(LISTS) | set(COUNTERS)
    for key in names:
        d.get(key)
        d.get_stale(key)
        d.ttl(key)
        d.llen(key)
    for key in LISTS:
        n, err = d.llen(key)
        if err is None:
            for _ in range(n):
                value, err = d.lpop(key)
                assert err is None and value is not None
            assert d.llen(key) == (0, None)
    for key in KEYS:
        assert d.set(key, "after")[0] is True
        assert d.get(key) == ("after", None)
        assert d.delete(key) == (True, None, False)
    for key in COUNTERS:
        d.delete(key)
        assert d.incr(key, 1, 41) == (42, None, False)
    assert d.rpush("l-final", 1) == (1, None) and d.lpop("l-final") == (1, None)
    d.flush_all()
    d.flush_expired()
    assert d.get_keys(0) == []


@pytest.fixture
def alert_log(tmp_path):
    yield from log_file(tmp_path, "alert")


def test_writers_killed_in_a_loop_leave_a_consistent_zone(alert_log):
    d = SharedDict.create("crash", 48 * 1024)
    rnd = random.Random(1234)
    writers = [spawn(d, rnd.random()) for _ in range(WRITERS)]
    deadline = time.monotonic() + 60
    try:
        for kill in range(KILLS):
            assert time.monotonic() < deadline, "the kill loop is bounded to a minute"
            time.sleep(rnd.uniform(0.001, 0.006))
            victim = writers.pop(rnd.randrange(len(writers)))
            os.kill(victim, signal.SIGKILL)
            _pid, status = os.waitpid(victim, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL  # it never failed alone
            writers.append(spawn(d, rnd.random()))
            if kill % 10 == 9:
                assert d.check() == []
    finally:
        for pid in writers:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert d.check() == []
    # some kills did land inside a write (about one in eight does), and were repaired
    assert "was left half written" in alert_log()
    exercise_every_key(d)
    assert d.check() == []


def test_a_writer_dying_inside_the_lock_is_repaired_by_the_next_locker(alert_log):
    """A child that dies (os._exit) right after the first shared-memory write of an lpop, holding
    the lock: the next locker finds the zone consistent, every entry whole, and the repair logged."""
    d = SharedDict.create("halfway", 64 * 1024)
    for i in range(20):
        d.set("k%d" % i, "value %d" % i)
    d.rpush("list", "a")
    d.rpush("list", "b")
    pid = os.fork()
    if pid == 0:
        try:
            # fault injection: the module's uint32 writer exits the process after one write
            import cosocket.shdictzone as zone_module
            u32 = zone_module._U32

            class DieAfterFirstWrite:
                unpack_from = u32.unpack_from

                @staticmethod
                def pack_into(*args):
                    u32.pack_into(*args)
                    os._exit(0)

            zone_module._U32 = DieAfterFirstWrite
            d.lpop("list")
        finally:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0  # it died inside lpop, holding the lock
    assert d.check() == []
    assert "was left half written" in alert_log()
    for i in range(20):
        assert d.get("k%d" % i) == ("value %d" % i, None)
    assert d.llen("list")[0] in (1, 2)
    exercise_every_key(d)
    assert d.check() == []
