"""ngx.sleep / ngx.thread / run_entry: lua-nginx-module's light-thread semantics on gevent."""
import os
import time

import gevent
import pytest

from cosocket import log, runtime
from cosocket.concurrency import run_entry
from cosocket.ngx import ngx
from cosocket.runtime import NgxExit

from tests.cosocket.fakes import FakeRequest


def exit_(status):
    raise NgxExit(status)


# --- sleep --------------------------------------------------------------------

def test_sleep_waits_and_lets_others_run():
    seen = []
    g = gevent.spawn(seen.append, "other")
    t0 = time.monotonic()
    ngx.sleep(0.01)
    assert time.monotonic() - t0 >= 0.009
    assert seen == ["other"]
    g.join()


def test_sleep_zero_only_yields():
    seen = []
    gevent.spawn(seen.append, 1)
    ngx.sleep(0)
    assert seen == [1]


def test_sleep_bad_argument():
    with pytest.raises(TypeError):
        ngx.sleep("1")


# --- spawn ----------------------------------------------------------------------

def test_spawn_runs_thread_until_it_yields_then_returns():
    order = []

    def f():
        order.append("f 1")
        ngx.sleep(0)
        order.append("f 2")
        ngx.sleep(0)
        order.append("f 3")

    def entry():
        order.append("0")
        ngx.thread.spawn(f)
        order.append("1")
        ngx.sleep(0)
        order.append("2")
        ngx.sleep(0)
        order.append("3")

    assert run_entry(FakeRequest(), entry) is None
    assert order == ["0", "f 1", "1", "f 2", "2", "f 3", "3"]


def test_spawn_thread_that_never_yields_finishes_before_spawn_returns():
    def entry():
        t = ngx.thread.spawn(lambda: 42)
        assert t.status() == "zombie"
        assert ngx.thread.wait(t) == (True, 42)
        assert t.status() == "dead"

    run_entry(FakeRequest(), entry)


def test_spawn_passes_arguments_and_inherits_request():
    req = FakeRequest()
    got = []

    def f(a, b):
        got.append((a, b, runtime.current_request.get()))

    run_entry(req, lambda: ngx.thread.spawn(f, 1, "x"))
    assert got == [(1, "x", req)]


def test_threads_are_registered_on_the_request_while_alive():
    req = FakeRequest()
    seen = []

    def entry():
        t = ngx.thread.spawn(ngx.sleep, 0.005)
        seen.append(t in req.threads)
        ngx.thread.wait(t)
        seen.append(t in req.threads)

    run_entry(req, entry)
    assert seen == [True, False]
    assert req.threads == set()


def test_spawn_needs_a_function():
    with pytest.raises(TypeError):
        ngx.thread.spawn(3)


# --- wait -------------------------------------------------------------------------

def test_wait_flattens_tuple_results_and_gives_none_for_bare_return():
    def entry():
        t1 = ngx.thread.spawn(lambda: ("a", 2))
        t2 = ngx.thread.spawn(lambda: None)
        assert ngx.thread.wait(t1) == (True, "a", 2)
        assert ngx.thread.wait(t2) == (True, None)

    run_entry(FakeRequest(), entry)


def test_wait_returns_the_first_thread_to_finish():
    out = []

    def slow():
        ngx.sleep(0.03)
        return "slow"

    def fast():
        ngx.sleep(0.005)
        return "fast"

    def entry():
        ts, tf = ngx.thread.spawn(slow), ngx.thread.spawn(fast)
        out.append(ngx.thread.wait(ts, tf))
        assert ts.status() == "running"
        out.append(ngx.thread.wait(tf, ts))  # tf is dead and not last: skipped
        out.append(ngx.thread.wait(ts, tf))  # a dead thread in last place is an error, as in Lua

    run_entry(FakeRequest(), entry)
    assert out == [(True, "fast"), (True, "slow"), (None, "already waited or killed")]


def test_wait_on_a_zombie_returns_at_once_and_twice_is_an_error():
    def entry():
        t = ngx.thread.spawn(lambda: "done")
        ngx.sleep(0)
        assert t.status() == "zombie"
        assert ngx.thread.wait(t) == (True, "done")
        assert ngx.thread.wait(t) == (None, "already waited or killed")

    run_entry(FakeRequest(), entry)


def test_failing_thread_is_logged_and_wait_reports_the_error(errlog):
    def bad():
        ngx.sleep(0)
        raise ValueError("boom")

    res = []

    def entry():
        t = ngx.thread.spawn(bad)
        res.append(ngx.thread.wait(t))

    assert run_entry(FakeRequest(7), entry) is None
    assert res == [(False, "ValueError: boom")]
    text = errlog()
    assert "[error]" in text
    assert "*7 lua user thread aborted: runtime error: ValueError: boom\nstack traceback:\n" in text
    assert 'in bad' in text


def test_failing_thread_does_not_stop_its_siblings():
    out = []

    def sibling():
        ngx.sleep(0.005)
        out.append("sibling done")

    def entry():
        ngx.thread.spawn(sibling)
        ngx.thread.spawn(lambda: 1 / 0)
        out.append("entry done")

    log.configure([(os.devnull, "error")])
    try:
        run_entry(FakeRequest(), entry)
    finally:
        log.configure([("stderr", "error")])
    assert out == ["entry done", "sibling done"]


def test_only_the_parent_may_wait():
    errors = []

    def entry():
        child = ngx.thread.spawn(ngx.sleep, 0.005)

        def other():
            try:
                ngx.thread.wait(child)
            except RuntimeError as e:
                errors.append(str(e))

        ngx.thread.wait(ngx.thread.spawn(other))
        ngx.thread.wait(child)

    run_entry(FakeRequest(), entry)
    assert errors == ["only the parent coroutine can wait on the thread"]


def test_nested_thread_is_waited_by_its_own_parent():
    def grandchild():
        ngx.sleep(0.002)
        return "gc"

    def child():
        return ngx.thread.wait(ngx.thread.spawn(grandchild))

    def entry():
        assert ngx.thread.wait(ngx.thread.spawn(child)) == (True, True, "gc")

    run_entry(FakeRequest(), entry)


def test_wait_argument_errors():
    with pytest.raises(TypeError):
        ngx.thread.wait()
    with pytest.raises(TypeError, match="lua thread expected"):
        ngx.thread.wait("x")


# --- kill ---------------------------------------------------------------------------

def test_kill_running_thread_stops_it():
    out = []

    def f():
        ngx.sleep(0.005)
        out.append("not reached")

    def entry():
        t = ngx.thread.spawn(f)
        assert ngx.thread.kill(t) == (1, None)
        assert t.status() == "dead"
        assert ngx.thread.kill(t) == (None, "already waited or killed")
        assert ngx.thread.wait(t) == (None, "already waited or killed")
        ngx.sleep(0.01)

    run_entry(FakeRequest(), entry)
    assert out == []


def test_kill_terminated_thread():
    def entry():
        t = ngx.thread.spawn(lambda: 1)
        assert ngx.thread.kill(t) == (None, "already terminated")
        assert ngx.thread.kill(t) == (None, "already waited or killed")

    run_entry(FakeRequest(), entry)


def test_kill_by_non_parent():
    res = []

    def entry():
        child = ngx.thread.spawn(ngx.sleep, 0.005)
        ngx.thread.wait(ngx.thread.spawn(lambda: res.append(ngx.thread.kill(child))))

    run_entry(FakeRequest(), entry)
    assert res == [(None, "killer not parent")]


def test_kill_bad_argument():
    with pytest.raises(TypeError):
        ngx.thread.kill(None)


# --- run_entry ---------------------------------------------------------------------------

def test_run_entry_waits_for_every_light_thread():
    out = []

    def f(d):
        ngx.sleep(d)
        out.append(d)

    def entry():
        ngx.thread.spawn(f, 0.01)
        ngx.thread.spawn(f, 0.002)
        out.append("entry")

    assert run_entry(FakeRequest(), entry) is None
    assert out == ["entry", 0.002, 0.01]


def test_run_entry_sets_and_restores_current_request():
    req = FakeRequest()
    seen = []
    run_entry(req, lambda: seen.append(runtime.current_request.get()))
    assert seen == [req]
    assert runtime.current_request.get() is None


def test_exit_in_entry_kills_light_threads_and_returns_status():
    out = []

    def f():
        ngx.sleep(0.005)
        out.append("not reached")

    def entry():
        ngx.thread.spawn(f)
        exit_(403)

    assert run_entry(FakeRequest(), entry) == 403
    ngx.sleep(0.01)
    assert out == []


def test_exit_in_light_thread_ends_entry_and_siblings():
    out = []

    def sibling():
        ngx.sleep(0.02)
        out.append("sibling not reached")

    def quitter():
        ngx.sleep(0.002)
        exit_(0)

    def entry():
        ngx.thread.spawn(sibling)
        ngx.thread.spawn(quitter)
        ngx.sleep(0.02)
        out.append("entry not reached")

    t0 = time.monotonic()
    assert run_entry(FakeRequest(), entry) == 0
    assert time.monotonic() - t0 < 0.015
    ngx.sleep(0.03)
    assert out == []


def test_exit_in_light_thread_after_entry_returned():
    out = []

    def sibling():
        ngx.sleep(0.02)
        out.append("sibling not reached")

    def quitter():
        ngx.sleep(0.002)
        exit_(444)

    def entry():
        ngx.thread.spawn(sibling)
        ngx.thread.spawn(quitter)
        out.append("entry done")

    assert run_entry(FakeRequest(), entry) == 444
    ngx.sleep(0.03)
    assert out == ["entry done"]


def test_exit_in_thread_while_entry_waits_on_it():
    def entry():
        t = ngx.thread.spawn(lambda: (ngx.sleep(0.002), exit_(502)))
        ngx.thread.wait(t)
        raise AssertionError("not reached")

    assert run_entry(FakeRequest(), entry) == 502


def test_entry_exception_kills_threads_and_propagates():
    out = []

    def f():
        ngx.sleep(0.005)
        out.append("not reached")

    def entry():
        ngx.thread.spawn(f)
        raise KeyError("bad")

    req = FakeRequest()
    with pytest.raises(KeyError):
        run_entry(req, entry)
    ngx.sleep(0.01)
    assert out == []
    assert req.threads == set()
    assert runtime.current_request.get() is None


def test_requests_are_independent():
    out = []

    def handler(name, delay):
        def entry():
            ngx.thread.spawn(lambda: (ngx.sleep(delay), out.append(name)))
            if name == "a":
                exit_(200)
        return entry

    ga = gevent.spawn(run_entry, FakeRequest(1), handler("a", 0.005))
    gb = gevent.spawn(run_entry, FakeRequest(2), handler("b", 0.005))
    gevent.joinall([ga, gb])
    assert (ga.value, gb.value) == (200, None)
    assert out == ["b"]


def test_threads_work_outside_any_request():
    t = ngx.thread.spawn(lambda x: x * 2, 21)
    assert ngx.thread.wait(t) == (True, 42)


# --- worker ----------------------------------------------------------------------------

def test_worker_info_outside_a_server():
    assert ngx.worker.id() is None
    assert ngx.worker.count() == 1
    assert ngx.worker.pid() == os.getpid()
    assert ngx.worker.exiting() is False


def test_worker_info_follows_runtime_state(monkeypatch):
    monkeypatch.setattr(runtime.worker, "id", 3)
    monkeypatch.setattr(runtime.worker, "count", 4)
    assert (ngx.worker.id(), ngx.worker.count()) == (3, 4)


def test_spawn_from_outside_the_entry_joins_the_current_request():
    """The worker's client-abort watcher sets current_request and spawns ngx.on_abort's handler."""
    req = FakeRequest()
    out = []

    def abort_handler():
        exit_(499)

    def watcher():
        token = runtime.current_request.set(req)
        try:
            ngx.thread.spawn(abort_handler)
        finally:
            runtime.current_request.reset(token)

    def entry():
        gevent.spawn_later(0.002, watcher)
        ngx.sleep(0.05)
        out.append("not reached")

    t0 = time.monotonic()
    assert run_entry(req, entry) == 499
    assert time.monotonic() - t0 < 0.04
    assert out == []
