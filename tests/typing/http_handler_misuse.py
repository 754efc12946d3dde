"""Deliberate misuse of the ngx request API: mypy must report every marked line."""
from __future__ import annotations

from cosocket import ngx

room = ngx.var.arg_room
room.lower()  # E: an unset variable is None
sent = ngx.say("hi")
if sent > 0:  # E: ngx.say returns (ok, err), not a count
    pass
ngx.status = "200"  # E: the status is a number
ngx.exit("done")  # E: the status is a number
