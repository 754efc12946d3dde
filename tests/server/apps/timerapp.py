"""Handlers for the timer-at-exit and phase tests."""
from cosocket import ngx

_phases = []


def init_worker():
    _phases.append(ngx.get_phase())


def phases():
    ngx.say("init_worker: ", _phases[0] if _phases else None, " content: ", ngx.get_phase())


def _on_timer(premature, name):
    ngx.log(ngx.NOTICE, "timer ", name, " premature: ", premature, " exiting: ", ngx.worker.exiting(),
            " phase: ", ngx.get_phase())


def arm():
    ngx.timer.at(3600, _on_timer, "at")
    ngx.timer.every(3600, _on_timer, "every")
    ngx.say("pending: ", ngx.timer.pending_count())
