"""nginx's scheduling order: a light thread runs until it yields; wake-ups run after the waker yields."""
import subprocess
import sys

from cosocket import ngx
from cosocket.concurrency import run_entry
from tests.cosocket.fakes import FakeRequest


def run(entry):
    out = []
    run_entry(FakeRequest(), lambda: entry(out.append))
    return out


def test_spawn_runs_the_new_thread_until_it_yields_then_the_spawner():
    def entry(say):
        def g():
            say("g: start")
            ngx.sleep(0.005)
            say("g: end")

        def f():
            say("f: start")
            ngx.thread.spawn(g)
            say("f: after g")

        ngx.thread.spawn(f)
        say("main: after f")

    assert run(entry) == ["f: start", "g: start", "main: after f", "f: after g", "g: end"]


def test_post_never_switches_and_waiters_wake_in_post_order():
    def entry(say):
        sema = ngx.semaphore.new()[0]

        def waiter(name):
            say("%s: %s" % (name, sema.wait(1)))

        for name in ("a", "b"):
            ngx.thread.spawn(waiter, name)
        sema.post()
        say("post 1")
        sema.post()
        say("post 2")
        ngx.sleep(0.005)

    assert run(entry) == ["post 1", "post 2", "a: (True, None)", "b: (True, None)"]


def test_a_thread_that_ends_resumes_its_waiting_parent_before_other_wakeups():
    def entry(say):
        sema = ngx.semaphore.new()[0]

        def a():
            sema.wait(1)
            say("a: woke")

        def b():
            sema.wait(1)
            say("b: woke")

        ta = ngx.thread.spawn(a)
        ngx.thread.spawn(b)
        sema.post(2)
        ngx.thread.wait(ta)
        say("main: a done")
        ngx.sleep(0.005)

    assert run(entry) == ["a: woke", "main: a done", "b: woke"]


def test_zero_delay_timers_fire_in_creation_order():
    def entry(say):
        sema = ngx.semaphore.new()[0]
        for i in range(6):
            ngx.timer.at(0, lambda premature, i: (say(i), sema.post()), i)
        for _ in range(6):
            sema.wait(1)

    assert run(entry) == [0, 1, 2, 3, 4, 5]


def test_spawn_in_a_plain_program_before_the_hub_ever_ran():
    # a fresh process: the first thing the main greenlet does is spawn (ending, then yielding, threads)
    code = (
        "from cosocket import ngx\n"
        "out = []\n"
        "t1 = ngx.thread.spawn(lambda: out.append('ends at once') or 1)\n"
        "out.append('after t1')\n"
        "def yields():\n"
        "    out.append('yields: 1')\n"
        "    ngx.sleep(0.001)\n"
        "    out.append('yields: 2')\n"
        "    return 2\n"
        "t2 = ngx.thread.spawn(yields)\n"
        "out.append('after t2')\n"
        "out.append(ngx.thread.wait(t1))\n"
        "out.append(ngx.thread.wait(t2))\n"
        "print(out)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("['ends at once', 'after t1', 'yields: 1', 'after t2', (True, 1), "
                                     "'yields: 2', (True, 2)]")


def test_exit_from_one_thread_does_not_resume_an_entry_waiting_on_another():
    def entry(say):
        def sleeper():
            ngx.sleep(1)

        def exiter():
            ngx.sleep(0.005)
            ngx.exit(502)

        t = ngx.thread.spawn(sleeper)
        ngx.thread.spawn(exiter)
        ngx.thread.wait(t)
        say("entry went on")

    out = []
    status = run_entry(FakeRequest(), lambda: entry(out.append))
    assert (status, out) == (502, [])
