"""ngx.timer.* (limits, premature expiry on shutdown) and ngx.semaphore."""
import time

import gevent
import pytest

from cosocket import concurrency, runtime
from cosocket.concurrency import run_entry
from cosocket.ngx import ngx
from cosocket.runtime import NgxExit

from tests.cosocket.fakes import FakeRequest


@pytest.fixture(autouse=True)
def fresh_timers(monkeypatch):
    """Each test gets its own timer manager and a worker that is not exiting."""
    manager = concurrency._TimerManager()
    monkeypatch.setattr(concurrency, "_timers", manager)
    monkeypatch.setattr(runtime.worker, "exiting", False)
    yield manager
    for tm in list(manager.pending):
        tm.watcher.stop()
    gevent.killall(list(manager.running))


# --- timer.at -------------------------------------------------------------------------

def test_timer_at_runs_callback_later_without_request():
    calls = []

    def cb(premature, a, b):
        calls.append((premature, a, b, runtime.current_request.get(), runtime.in_timer.get()))

    def entry():
        assert ngx.timer.at(0.005, cb, 1, "two") == (1, None)

    run_entry(FakeRequest(), entry)
    assert calls == []
    assert ngx.timer.pending_count() == 1
    ngx.sleep(0.02)
    assert calls == [(False, 1, "two", None, True)]
    assert ngx.timer.pending_count() == 0
    assert runtime.in_timer.get() is False


def test_zero_delay_timer_runs_when_caller_yields():
    calls = []
    ngx.timer.at(0, calls.append)
    assert calls == []
    ngx.sleep(0.001)
    assert calls == [False]


def test_running_count_counts_running_callbacks():
    counts = []
    ngx.timer.at(0, lambda p: ngx.sleep(0.01))
    ngx.sleep(0.003)
    counts.append(ngx.timer.running_count())
    ngx.sleep(0.02)
    counts.append(ngx.timer.running_count())
    assert counts == [1, 0]


def test_timer_waits_for_its_light_threads_before_it_stops_running():
    out = []

    def cb(premature):
        ngx.thread.spawn(lambda: (ngx.sleep(0.01), out.append("thread")))

    ngx.timer.at(0, cb)
    ngx.sleep(0.004)
    assert ngx.timer.running_count() == 1
    ngx.sleep(0.02)
    assert out == ["thread"]
    assert ngx.timer.running_count() == 0


def test_timer_exception_is_logged_with_timer_context(errlog):
    def cb(premature):
        raise RuntimeError("timer broke")

    ngx.timer.at(0, cb)
    ngx.sleep(0.005)
    text = errlog()
    assert "[error]" in text
    assert "lua entry thread aborted: runtime error: RuntimeError: timer broke\nstack traceback:\n" in text
    assert ", context: ngx.timer" in text


def test_exit_in_timer_ends_only_that_timer():
    out = []

    def cb(premature, name):
        if name == "a":
            raise NgxExit(0)
        ngx.sleep(0.002)
        out.append(name)

    ngx.timer.at(0, cb, "a")
    ngx.timer.at(0, cb, "b")
    ngx.sleep(0.01)
    assert out == ["b"]
    assert ngx.timer.running_count() == 0


def test_too_many_pending_timers(fresh_timers):
    concurrency.set_timer_limits(max_pending=2, max_running=256)
    assert ngx.timer.at(1, print) == (1, None)
    assert ngx.timer.at(1, print) == (1, None)
    assert ngx.timer.at(1, print) == (None, "too many pending timers")
    assert ngx.timer.pending_count() == 2


def test_running_limit_skips_callback_and_logs(errlog, fresh_timers):
    concurrency.set_timer_limits(max_pending=1024, max_running=1)
    out = []

    def long_cb(premature):
        ngx.sleep(0.01)
        out.append("long")

    def skipped(premature):
        out.append("skipped ran")

    ngx.timer.at(0, long_cb)
    ngx.sleep(0.002)
    ngx.timer.at(0, skipped)
    ngx.sleep(0.015)
    assert out == ["long"]
    text = errlog()
    assert "[alert]" in text
    assert "lua failed to run timer with function defined at " in text
    assert "1 lua_max_running_timers are not enough" in text


def test_timer_argument_errors():
    with pytest.raises(TypeError):
        ngx.timer.at("1", print)
    with pytest.raises(TypeError):
        ngx.timer.at(1, "not a function")


# --- timer.every -------------------------------------------------------------------------

def test_timer_every_repeats():
    ticks = []
    assert ngx.timer.every(0.003, lambda p, tag: ticks.append((p, tag)), "t") == (1, None)
    ngx.sleep(0.02)
    assert len(ticks) >= 3
    assert set(ticks) == {(False, "t")}
    assert ngx.timer.pending_count() == 1


def test_timer_every_rejects_zero_delay():
    with pytest.raises(ValueError, match="delay cannot be zero"):
        ngx.timer.every(0, print)


# --- shutdown --------------------------------------------------------------------------

def test_shutdown_fires_pending_timers_prematurely_and_stops_every():
    calls = []
    ngx.timer.at(10, lambda p, n: calls.append((n, p)), "at")
    ngx.timer.every(10, lambda p, n: calls.append((n, p)), "every")
    t0 = time.monotonic()
    assert concurrency.shutdown(timeout=1) is True
    assert time.monotonic() - t0 < 0.5
    assert sorted(calls) == [("at", True), ("every", True)]
    assert ngx.worker.exiting() is True
    assert ngx.timer.pending_count() == 0


def test_shutdown_waits_for_running_timers_within_timeout():
    out = []
    ngx.timer.at(0, lambda p: (ngx.sleep(0.01), out.append("done")))
    ngx.sleep(0.001)
    assert concurrency.shutdown(timeout=1) is True
    assert out == ["done"]


def test_shutdown_timeout_reports_still_running():
    ngx.timer.at(0, lambda p: ngx.sleep(1))
    ngx.sleep(0.001)
    assert concurrency.shutdown(timeout=0.01) is False


def test_timers_while_exiting():
    runtime.worker.exiting = True
    calls = []
    assert ngx.timer.at(1, print) == (None, "process exiting")
    assert ngx.timer.at(0, calls.append) == (1, None)
    ngx.sleep(0.002)
    assert calls == [False]


# --- semaphore -------------------------------------------------------------------------

def test_semaphore_new_and_count():
    sema, err = ngx.semaphore.new(2)
    assert err is None
    assert sema.count() == 2
    assert ngx.semaphore.new()[0].count() == 0
    with pytest.raises(ValueError):
        ngx.semaphore.new(-1)
    with pytest.raises(TypeError):
        ngx.semaphore.new("x")


def test_semaphore_wait_takes_available_resource_without_yielding():
    sema, _ = ngx.semaphore.new(1)
    assert sema.wait(0) == (True, None)
    assert sema.count() == 0
    assert sema.wait(0) == (None, "timeout")  # lua-resty-core: nil, "timeout" for a zero wait


def test_semaphore_wait_times_out():
    sema, _ = ngx.semaphore.new(0)
    t0 = time.monotonic()
    assert sema.wait(0.01) == (False, "timeout")
    assert 0.008 <= time.monotonic() - t0 < 0.2
    assert sema.count() == 0


def test_semaphore_post_wakes_waiters_in_fifo_order():
    sema, _ = ngx.semaphore.new(0)
    order = []

    def waiter(name):
        ok, err = sema.wait(1)
        order.append((name, ok, err))

    def entry():
        for name in ("a", "b", "c"):
            ngx.thread.spawn(waiter, name)
        assert sema.count() == -3
        sema.post()
        ngx.sleep(0.001)
        assert order == [("a", True, None)]
        assert sema.post(2) is True
        ngx.sleep(0.001)

    run_entry(FakeRequest(), entry)
    assert order == [("a", True, None), ("b", True, None), ("c", True, None)]
    assert sema.count() == 0


def test_semaphore_no_barging_past_waiters():
    sema, _ = ngx.semaphore.new(0)
    order = []

    def entry():
        ngx.thread.spawn(lambda: order.append(("first", sema.wait(1))))
        sema.post()
        # the resource belongs to the queued waiter, not to a newcomer
        order.append(("newcomer", sema.wait(0)))
        ngx.sleep(0.001)

    run_entry(FakeRequest(), entry)
    assert order == [("newcomer", (None, "timeout")), ("first", (True, None))]


def test_semaphore_timed_out_waiter_leaves_the_queue():
    sema, _ = ngx.semaphore.new(0)
    out = []

    def entry():
        ngx.thread.spawn(lambda: out.append(sema.wait(0.02)))
        ngx.thread.spawn(lambda: out.append(sema.wait(5)))
        ngx.sleep(0.2)  # well past the first wait's timeout, even on a loaded machine
        assert sema.count() == -1
        sema.post()
        ngx.sleep(0.001)

    run_entry(FakeRequest(), entry)
    assert out == [(False, "timeout"), (True, None)]
    assert sema.count() == 0


def test_semaphore_killed_waiter_leaves_the_queue():
    sema, _ = ngx.semaphore.new(0)

    def entry():
        t = ngx.thread.spawn(sema.wait, 1)
        assert sema.count() == -1
        assert ngx.thread.kill(t) == (1, None)
        assert sema.count() == 0

    run_entry(FakeRequest(), entry)


def test_semaphore_post_argument_errors():
    sema, _ = ngx.semaphore.new(0)
    with pytest.raises(ValueError):
        sema.post(0)
    with pytest.raises(TypeError):
        sema.wait("1")
