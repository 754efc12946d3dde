"""A content_by_python_file handler answering plain HTTP: type-checked, never run."""
from __future__ import annotations

from cosocket import ngx

if ngx.req.get_method() not in ("GET", "POST"):
    ngx.exit(ngx.HTTP_NOT_ALLOWED)

agent = ngx.req.get_headers().get("user-agent")
args = ngx.req.get_uri_args()
room = ngx.var.arg_room
if room is None:
    ngx.redirect("/?room=lobby")
ngx.ctx["room"] = room.lower()  # narrowed to str: ngx.redirect never returns

hits = ngx.shared.hits
if hits is not None:
    count, err, _forcible = hits.incr(room, 1, 0)
    ngx.log(ngx.INFO, "visitors in ", room, ": ", count, " ", agent, " ", len(args))

sock, err = ngx.req.socket()
if sock is not None:
    body, err, partial = sock.receive(16)
    ngx.header["X-Body-Length"] = len(body or partial or b"")

ngx.status = ngx.HTTP_OK
ok, err = ngx.say("hello ", room)
if ok is None:
    ngx.log(ngx.ERR, "failed to say: ", err)
ngx.exit(ngx.OK)
