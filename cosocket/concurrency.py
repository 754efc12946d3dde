"""Light threads, timers, semaphores and worker info: `ngx.sleep/thread/timer/semaphore/worker`.

The model is lua-nginx-module's:

* Every request handler runs as an *entry thread* (`run_entry`); it may
  spawn *light threads* (`ngx.thread.spawn`), which may spawn their own.
  The request ends when the entry thread and every light thread have
  ended, or as soon as any of them calls `ngx.exit` (the others are
  killed), or when the entry thread fails.
* A timer callback (`ngx.timer.at/every`) is the entry thread of a fake
  request with no request object: same rules, `runtime.in_timer` is True.
* Outside any request or timer (a plain gevent program) light threads
  still work; they belong to one process-wide scope.

Each light thread is one gevent Greenlet running in a copy of its
spawner's contextvars, so `runtime.current_request` follows it.
"""
from __future__ import annotations

import contextvars
import traceback
from collections import deque
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Optional

import gevent
from gevent import Greenlet, GreenletExit, getcurrent
from gevent.event import Event
from gevent.hub import Waiter, get_hub

from . import log, runtime
from .runtime import NgxExit
from .types import BoolErr, OkErr

__all__ = ["sleep", "thread", "timer", "semaphore", "worker", "run_entry", "shutdown",
           "LightThread", "Semaphore", "set_timer_limits"]


def sleep(seconds: float) -> None:
    """`ngx.sleep(seconds)`: yield to other greenlets for `seconds` (0 only yields)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("bad argument #1 to 'sleep' (number expected, got %s)" % _lua_type(seconds))
    if seconds < 0:
        raise ValueError("invalid sleep duration \"%d\"" % int(seconds * 1000))  # nginx counts in ms
    gevent.sleep(seconds)


def _lua_type(value) -> str:
    """The type name Lua's error messages would give `value`."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, (dict, list, tuple)):
        return "table"
    return "function" if callable(value) else type(value).__name__


# ---------------------------------------------------------------------------
# Scopes: the set of threads one request (or timer) owns
# ---------------------------------------------------------------------------

_RUNNING, _ZOMBIE, _DEAD = "running", "zombie", "dead"


class _Scope:
    """The threads of one request or timer, and how its entry thread is doing.

    `phase` is "entry" while the entry function runs, "waiting" while the
    entry has returned and the light threads are still running, "done"
    after; `exit_status` is what `ngx.exit` was given, by any thread.
    """

    __slots__ = ("request", "threads", "entry_greenlet", "phase", "exit_status", "_idle")

    def __init__(self, request, threads: set, entry_greenlet=None):
        self.request = request
        self.threads = threads  # live light threads
        self.entry_greenlet = entry_greenlet
        self.phase = "entry" if entry_greenlet is not None else "detached"
        self.exit_status: Optional[int] = None
        self._idle: Optional[Event] = None  # the Event "no light thread alive, or exit", made when first needed

    @property
    def idle(self) -> Event:
        """Set when no light thread is alive, or on exit (created on first use: most requests spawn none)."""
        event = self._idle
        if event is None:
            event = self._idle = Event()
            if not self.threads:
                event.set()
        return event

    def thread_ended(self, t: "LightThread") -> None:
        self.threads.discard(t)
        if not self.threads and self._idle is not None:
            self._idle.set()

    def exit_from_thread(self, status: int) -> None:
        """A light thread called ngx.exit: end the whole request (or timer)."""
        if self.phase == "detached" or self.exit_status is not None:
            return
        self.exit_status = status
        me = getcurrent()
        for t in list(self.threads):
            if t._greenlet is not me:
                t._state = _DEAD
                t._greenlet.kill(block=False)
        self.idle.set()
        if self.phase == "entry":
            get_hub().loop.run_callback(self._interrupt_entry)

    def _interrupt_entry(self) -> None:
        # Runs in the hub; the entry may have moved on since the call was scheduled.
        if self.phase == "entry":
            self.entry_greenlet.throw(NgxExit(self.exit_status))  # type: ignore[arg-type]  # set by exit_from_thread

    def kill_all(self) -> None:
        """Kill every light thread still alive and wait until they have unwound."""
        live = [t for t in self.threads]
        for t in live:
            t._state = _DEAD
        if live:
            gevent.killall([t._greenlet for t in live], block=True)
        self.threads.clear()


_root_scope = _Scope(None, set())
_scope_var: contextvars.ContextVar[_Scope] = contextvars.ContextVar("cosocket_thread_scope", default=_root_scope)
# The light thread the running greenlet is; None for the entry thread (or plain code).
_thread_var: contextvars.ContextVar[Optional["LightThread"]] = contextvars.ContextVar(
    "cosocket_light_thread", default=None)


# Scopes of the requests whose entry thread is running, by id(request): lets code that only
# set runtime.current_request (the worker's client-abort watcher) spawn into the right request.
_request_scopes: dict = {}


def _current_scope() -> _Scope:
    scope = _scope_var.get()
    req = runtime.current_request.get()
    if req is not None and scope.request is not req:
        scope = _request_scopes.get(id(req), scope)
    return scope


def _current_coroutine():
    """Who is running, as the parent of threads it spawns: a LightThread, or the scope for its entry."""
    me = _thread_var.get()
    return me if me is not None else _current_scope()


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _abort_message(kind: str, exc: BaseException) -> str:
    tb = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
    return "lua %s thread aborted: runtime error: %s\nstack traceback:\n%s" % (kind, _error_text(exc), tb)


def _run_scope(scope: _Scope, fn: Callable[[], Any]) -> Optional[int]:
    """Run `fn` as the entry thread of `scope`, then wait for its light threads (see run_entry)."""
    try:
        try:
            fn()
        except NgxExit as e:
            if scope.exit_status is None:
                scope.exit_status = e.status
        if scope.exit_status is None and scope.threads:
            scope.phase = "waiting"
            scope.idle.clear()
            scope.idle.wait()
    except BaseException:
        # the entry failed, or this greenlet is being killed: nothing of the request may outlive it
        scope.phase = "done"
        scope.kill_all()
        raise
    scope.phase = "done"
    if scope.threads:  # ngx.exit was called: the other threads end with the request
        scope.kill_all()
    return scope.exit_status


def run_entry(request, fn: Callable[[], Any]) -> Optional[int]:
    """Run `fn()` as `request`'s entry thread, in the current greenlet; wait for its light threads.

    Returns the status given to `ngx.exit` by any thread of the request
    (the other threads are then killed), or None when every thread
    returned normally.  An exception from `fn` kills the light threads and
    propagates.
    """
    threads = getattr(request, "threads", None)
    if threads is None:
        threads = set()
        setattr(request, "threads", threads)
    scope = _Scope(request, threads, getcurrent())
    # the values before, put back at the end: set() again rather than reset(token), so that a
    # request parked for hours (an idle WebSocket) holds no Token objects (3 x 64 B)
    outer_request = runtime.current_request.get()
    outer_scope = _scope_var.get()
    outer_thread = _thread_var.get()
    runtime.current_request.set(request)
    _scope_var.set(scope)
    _thread_var.set(None)
    _request_scopes[id(request)] = scope
    try:
        return _run_scope(scope, fn)
    finally:
        if _request_scopes.get(id(request)) is scope:
            del _request_scopes[id(request)]
        runtime.request_ended(request)  # as nginx's request cleanup: its cosockets close
        _thread_var.set(outer_thread)
        _scope_var.set(outer_scope)
        runtime.current_request.set(outer_request)


# ---------------------------------------------------------------------------
# Light threads: ngx.thread.spawn / wait / kill
# ---------------------------------------------------------------------------

class LightThread:
    """A light thread (`ngx.thread.spawn`'s result): a Greenlet plus Lua's coroutine bookkeeping."""

    __slots__ = ("_fn", "_args", "_parent", "_scope", "_greenlet", "_state", "_results", "_waiter",
                 "_spawner", "_resume", "__weakref__")

    def __init__(self, fn, args, parent, scope: _Scope):
        self._fn = fn
        self._args = args
        self._parent = parent
        self._scope = scope
        self._greenlet: Optional[Greenlet] = None
        self._state = _RUNNING
        self._results: tuple = ()
        self._waiter: Optional[_Waiting] = None
        # while spawn() waits for this thread's first yield: the spawner's greenlet and the hub
        # callback that resumes it
        self._spawner: Any = None
        self._resume: Any = None

    def status(self) -> str:
        """`coroutine.status(t)`: "running" (alive, even while suspended), "zombie" or "dead"."""
        return self._state

    def __repr__(self) -> str:
        return "thread: 0x%08x" % id(self)

    def _run_in(self, scope: _Scope) -> None:
        _scope_var.set(scope)
        self._body()

    def _body(self) -> None:
        _thread_var.set(self)
        try:
            result = self._fn(*self._args)
        except NgxExit as e:
            self._scope.exit_from_thread(e.status)
            self._end((True,), to_waiter=False)  # the exit unwinds a waiting entry, not a wake-up
        except GreenletExit:  # killed: by its parent, or with the whole request (whose threads all unwind)
            self._state = _DEAD
            self._scope.thread_ended(self)
            self._hand_over(to_waiter=False)
            raise
        except Exception as e:  # a failing light thread never takes the others down
            log.error(log.ERR, _abort_message("user", e))
            self._end((False, _error_text(e)))
        else:
            self._end((True,) + result if isinstance(result, tuple) else (True, result))

    def _end(self, results: tuple, to_waiter: bool = True) -> None:
        self._results = results
        if self._state == _RUNNING:
            self._state = _ZOMBIE
        self._scope.thread_ended(self)
        self._hand_over(to_waiter)

    def _hand_over(self, to_waiter: bool = True) -> None:
        """Choose who runs when this thread's greenlet ends, as lua-nginx-module resumes coroutines.

        A thread that ends before it ever yielded returns straight into the
        spawn() that started it; a thread whose parent waits on it in
        ngx.thread.wait resumes that parent at once; otherwise the hub runs
        the next wake-up in line.
        """
        me = getcurrent()
        resume = self._resume
        if resume is not None:
            resume.stop()
            self._resume = None
            me.parent = self._spawner
            self._spawner = None
            return
        waiting = self._waiter
        if to_waiter and waiting is not None and waiting.done is None:
            waiting.done = self
            if waiting.greenlet is not None:
                me.parent = waiting.greenlet


class _Waiting:
    """A parent parked in ngx.thread.wait: its greenlet and the thread that ended first."""

    __slots__ = ("greenlet", "done")

    def __init__(self, greenlet) -> None:
        self.greenlet = greenlet
        self.done: Optional[LightThread] = None


def _resume_spawner(t: LightThread) -> None:
    # In the hub: the new thread yielded, its spawner goes on (queued at spawn time, so before
    # whatever the new thread woke).
    spawner = t._spawner
    t._resume = None
    t._spawner = None
    spawner.switch()


def spawn(fn: Callable[..., Any], *args: Any) -> LightThread:
    """`ngx.thread.spawn(f, ...)`: run `f(*args)` now until it first yields, then return its thread."""
    if not callable(fn):
        raise TypeError("bad argument #1 to 'spawn' (Lua function expected)")
    scope = _current_scope()
    t = LightThread(fn, args, _current_coroutine(), scope)
    ctx = contextvars.copy_context()
    g = t._greenlet = Greenlet(ctx.run, t._run_in, scope)
    scope.threads.add(t)
    scope.idle.clear()
    hub = get_hub()
    me = getcurrent()
    if me is hub:  # not from a thread (a hub callback): start it as the next callback
        g.start()
        return t
    # lua-nginx-module posts the spawner, then runs the new thread until it yields or ends
    t._spawner = me
    t._resume = hub.loop.run_callback(_resume_spawner, t)
    try:
        g.switch()
    except BaseException:  # the spawner was killed meanwhile: nothing may switch back into it later
        if t._resume is not None:
            t._resume.stop()
            t._resume = None
        t._spawner = None
        raise
    if scope.exit_status is not None and scope.phase != "detached":
        raise NgxExit(scope.exit_status)  # the new thread called ngx.exit: the spawner never goes on
    return t


def _check_thread(t, i: int, fname: str) -> None:
    if not isinstance(t, LightThread):
        raise TypeError("bad argument #%d to '%s' (lua thread expected)" % (i, fname))


def wait(*threads: LightThread) -> tuple[Any, ...]:
    """`ngx.thread.wait(t1, ...)`: the first of them to end -> `(True, *results)` or `(False, err)`.

    The tuple's length is 1 + the number of values the thread's function
    returned (a tuple result is flattened, as Lua returns several values).

    A thread already waited on or killed gives `(None, "already waited or
    killed")` when it is the last argument (it is skipped otherwise).
    Only the thread that spawned them may wait (RuntimeError otherwise).
    """
    if not threads:
        raise TypeError("at least one coroutine should be specified")
    me = _current_coroutine()
    alive = []
    for i, t in enumerate(threads, 1):
        _check_thread(t, i, "wait")
        if t._parent is not me:
            raise RuntimeError("only the parent coroutine can wait on the thread")
        if t._state == _ZOMBIE:
            t._state = _DEAD
            return t._results
        if t._state == _DEAD:
            if i < len(threads):
                continue
            return (None, "already waited or killed")
        alive.append(t)
    waiting = _Waiting(getcurrent())
    for t in alive:
        t._waiter = waiting
    hub = get_hub()
    try:
        while waiting.done is None:
            hub.switch()  # the first of them to end ends into this greenlet (LightThread._hand_over)
    finally:
        waiting.greenlet = None
        for t in alive:
            if t._waiter is waiting:
                t._waiter = None
    done = waiting.done
    done._state = _DEAD
    return done._results


def kill(t: LightThread) -> OkErr:
    """`ngx.thread.kill(t)` -> `(1, None)`, or `(None, err)` as lua-nginx-module words it."""
    _check_thread(t, 1, "kill")
    if t._parent is not _current_coroutine():
        return (None, "killer not parent")
    if t._state == _ZOMBIE:
        t._state = _DEAD
        return (None, "already terminated")
    if t._state == _DEAD:
        return (None, "already waited or killed")
    t._state = _DEAD
    t._greenlet.kill(block=True)  # type: ignore[union-attr]  # spawn() set it
    return (1, None)


if TYPE_CHECKING:
    class _ThreadAPI:
        spawn = staticmethod(spawn)
        wait = staticmethod(wait)
        kill = staticmethod(kill)
    thread: _ThreadAPI
else:
    thread = SimpleNamespace(spawn=spawn, wait=wait, kill=kill)


# ---------------------------------------------------------------------------
# Timers: ngx.timer.at / every
# ---------------------------------------------------------------------------

class _Timer:
    __slots__ = ("fn", "args", "delay", "every", "watcher")

    def __init__(self, fn, args, delay: float, every: bool):
        self.fn = fn
        self.args = args
        self.delay = delay
        self.every = every
        self.watcher: Any = None


class _TimerRun:
    """One run of a timer callback: what its cosockets belong to (runtime.on_request_end)."""

    __slots__ = ("cosocket_owned",)

    def __init__(self) -> None:
        self.cosocket_owned = None


class _TimerManager:
    """The worker's timers: lua_max_pending_timers / lua_max_running_timers accounting."""

    def __init__(self) -> None:
        self.max_pending = 1024
        self.max_running = 256
        self.pending: set = set()
        self.running: set = set()  # greenlets of running callbacks
        self.all_idle = Event()
        self.all_idle.set()

    def create(self, delay: float, fn: Callable[..., Any], args: tuple[Any, ...], every: bool,
               fname: str) -> OkErr:
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise TypeError("bad argument #1 to '%s' (number expected, got %s)" % (fname, type(delay).__name__))
        if not callable(fn):
            raise TypeError("bad argument #2 to '%s' (Lua function expected)" % fname)
        if delay < 0:
            raise ValueError("bad argument #1 to '%s' (delay must not be negative)" % fname)
        if every and int(delay * 1000) == 0:
            raise ValueError("delay cannot be zero")
        if runtime.worker.exiting and delay > 0:
            return (None, "process exiting")
        if len(self.pending) >= self.max_pending:
            return (None, "too many pending timers")
        self._arm(_Timer(fn, args, delay, every))
        return (1, None)

    def _arm(self, tm: _Timer) -> None:
        self.pending.add(tm)
        loop = get_hub().loop
        if tm.delay == 0:
            # due at once: the hub's callback queue keeps creation order (nginx's timer tree is
            # FIFO among equal deadlines; a timer heap is not)
            tm.watcher = loop.run_callback(self._expire, tm, False)
        else:
            tm.watcher = loop.timer(tm.delay)
            tm.watcher.start(self._expire, tm, False)

    def _expire(self, tm: _Timer, premature: bool) -> None:
        """A timer is due (in the hub, or from shutdown): start its callback in a new greenlet."""
        if tm not in self.pending:
            return
        self.pending.discard(tm)
        tm.watcher.close()
        if tm.every and not runtime.worker.exiting:
            self._arm(_Timer(tm.fn, tm.args, tm.delay, True))
        if len(self.running) >= self.max_running:
            code = getattr(tm.fn, "__code__", None)
            where = "%s:%d" % (code.co_filename, code.co_firstlineno) if code else "(unknown):0"
            log.error(log.ALERT, "lua failed to run timer with function defined at %s: "
                      "%d lua_max_running_timers are not enough" % (where, self.max_running))
            return
        g = Greenlet(contextvars.Context().run, self._run, tm, premature)
        self.running.add(g)
        self.all_idle.clear()
        g.start()

    def _run(self, tm: _Timer, premature: bool) -> None:
        runtime.in_timer.set(True)
        run = _TimerRun()
        runtime.current_timer.set(run)
        scope = _Scope(None, set(), getcurrent())
        _scope_var.set(scope)
        try:
            _run_scope(scope, lambda: tm.fn(premature, *tm.args))
        except Exception as e:
            log.error(log.ERR, _abort_message("entry", e))
        finally:
            runtime.request_ended(run)  # as nginx ends the timer's fake request: its cosockets close
            self.running.discard(getcurrent())
            if not self.running:
                self.all_idle.set()

    def shutdown(self, timeout: Optional[float] = None) -> bool:
        """Fire every pending timer with premature=True, stop `every` timers, wait for running ones."""
        runtime.worker.exiting = True
        for tm in list(self.pending):
            tm.watcher.stop()
            self._expire(tm, True)
        return self.all_idle.wait(timeout)


_timers = _TimerManager()


def set_timer_limits(max_pending: int = 1024, max_running: int = 256) -> None:
    """Set lua_max_pending_timers / lua_max_running_timers for this worker."""
    _timers.max_pending = max_pending
    _timers.max_running = max_running


def timer_at(delay: float, fn: Callable[..., Any], *args: Any) -> OkErr:
    """`ngx.timer.at(delay, f, ...)` -> `(1, None)` or `(None, err)`; later `f(premature, ...)` runs."""
    return _timers.create(delay, fn, args, False, "at")


def timer_every(delay: float, fn: Callable[..., Any], *args: Any) -> OkErr:
    """`ngx.timer.every(delay, f, ...)`: `f(premature, ...)` every `delay` seconds until the worker exits."""
    return _timers.create(delay, fn, args, True, "every")


def running_count() -> int:
    """`ngx.timer.running_count()`: timer callbacks running now."""
    return len(_timers.running)


def pending_count() -> int:
    """`ngx.timer.pending_count()`: timers not expired yet."""
    return len(_timers.pending)


def shutdown(timeout: Optional[float] = None) -> bool:
    """Worker exit: set `worker.exiting`, run pending timers prematurely, wait up to `timeout` s for them.

    Returns False when some timer callback was still running at the deadline.
    """
    return _timers.shutdown(timeout)


if TYPE_CHECKING:
    class _TimerAPI:
        at = staticmethod(timer_at)
        every = staticmethod(timer_every)
        running_count = staticmethod(running_count)
        pending_count = staticmethod(pending_count)
    timer: _TimerAPI
else:
    timer = SimpleNamespace(at=timer_at, every=timer_every, running_count=running_count,
                            pending_count=pending_count)


# ---------------------------------------------------------------------------
# Semaphores: ngx.semaphore (lua-resty-core's ngx.semaphore)
# ---------------------------------------------------------------------------

class Semaphore:
    """A counting semaphore with FIFO wake-up, as lua-resty-core's `ngx.semaphore`.

    `post` never switches: the waiters it wakes run after the poster yields,
    oldest first, each until it yields in turn.
    """

    __slots__ = ("_resources", "_waiters", "_wakeup_scheduled")

    def __init__(self, n: int = 0):
        self._resources = n
        self._waiters: deque = deque()  # one Waiter per parked thread, oldest first
        self._wakeup_scheduled = False

    def post(self, n: int = 1) -> bool:
        """Add `n` resources and wake that many waiters, the longest waiting first."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("bad argument #1 to 'post' (number expected, got %s)" % type(n).__name__)
        if n < 1:
            raise ValueError("positive number required")
        self._resources += n
        if self._waiters and not self._wakeup_scheduled:
            self._wakeup_scheduled = True
            get_hub().loop.run_callback(self._wake)
        return True

    def _wake(self) -> None:
        # In the hub: each switch runs one waiter until it yields, then the loop goes on.
        self._wakeup_scheduled = False
        while self._waiters and self._resources > 0:
            self._resources -= 1
            self._waiters.popleft().switch(True)

    def wait(self, timeout: float) -> BoolErr:
        """Take one resource, waiting at most `timeout` seconds.

        `(True, None)`; `(False, "timeout")` when the wait timed out;
        `(None, "timeout")` when `timeout` is 0 and no resource is free.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("bad argument #1 to 'wait' (number expected, got %s)" % type(timeout).__name__)
        if timeout < 0:
            raise ValueError("no negative number")
        if not self._waiters and self._resources > 0:
            self._resources -= 1
            return (True, None)
        if int(timeout * 1000) == 0:
            return (None, "timeout")
        ticket = Waiter()
        self._waiters.append(ticket)
        timer = gevent.Timeout(timeout)
        timer.start()
        try:
            ticket.get()
            return (True, None)
        except gevent.Timeout as t:
            if t is not timer:
                raise
            self._withdraw(ticket)
            return (False, "timeout")
        except BaseException:
            self._withdraw(ticket)
            raise
        finally:
            timer.close()

    def _withdraw(self, ticket) -> None:
        try:
            self._waiters.remove(ticket)
        except ValueError:  # already granted (its switch could not reach it): hand the resource on
            self.post(1)

    def count(self) -> int:
        """Resources available; negative: minus the number of waiting threads."""
        return self._resources - len(self._waiters)


def semaphore_new(n: Optional[int] = 0) -> tuple[Optional[Semaphore], Optional[str]]:
    """`ngx.semaphore.new(n)` -> `(sema, None)`."""
    if n is None:
        n = 0
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("bad argument #1 to 'new' (number expected, got %s)" % type(n).__name__)
    if n < 0:
        raise ValueError("no negative number")
    return (Semaphore(n), None)


if TYPE_CHECKING:
    class _SemaphoreAPI:
        new = staticmethod(semaphore_new)
    semaphore: _SemaphoreAPI
else:
    semaphore = SimpleNamespace(new=semaphore_new)


# ---------------------------------------------------------------------------
# ngx.worker
# ---------------------------------------------------------------------------

def _worker_id() -> Optional[int]:
    """`ngx.worker.id()`: 0..count-1 in a server worker, None elsewhere."""
    return runtime.worker.id


def _worker_count() -> int:
    """`ngx.worker.count()`: worker_processes."""
    return runtime.worker.count


def _worker_pid() -> int:
    """`ngx.worker.pid()`."""
    return runtime.worker.pid


def _worker_exiting() -> bool:
    """`ngx.worker.exiting()`: True once the worker has started its graceful exit."""
    return runtime.worker.exiting


if TYPE_CHECKING:
    class _WorkerAPI:
        id = staticmethod(_worker_id)
        count = staticmethod(_worker_count)
        pid = staticmethod(_worker_pid)
        exiting = staticmethod(_worker_exiting)
    worker: _WorkerAPI
else:
    worker = SimpleNamespace(id=_worker_id, count=_worker_count, pid=_worker_pid, exiting=_worker_exiting)
