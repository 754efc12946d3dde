"""Handlers for the channels tests (content_by_python chanapp:NAME); arguments come in the query string."""
import json
import os

from cosocket import ngx
from websocket import channels, server


def _args():
    return ngx.req.get_uri_args()


def _int(value, default=None):
    return int(value) if value not in (None, "") else default


def room():
    """A WebSocket: says "hello <pid>", attaches ?ch= (several: comma-separated), says "ready", publishes every text it
    receives to the first channel.  "!stats" answers this connection's attachments as JSON, "!detach"
    detaches them."""
    args = _args()
    names = (args.get("ch") or "room").split(",")
    wb, err = server.new(timeout=30000, max_payload_len=1 << 20, permessage_deflate=bool(args.get("deflate")))
    if wb is None:
        return ngx.exit(400)
    wb.send_text("hello %d" % os.getpid())
    atts = []
    for name in names:
        att, err = channels.attach(wb, name, since=_int(args.get("since")), epoch=args.get("epoch"),
                                   queue=_int(args.get("queue")), overflow=args.get("overflow") or "drop_oldest",
                                   close_code=_int(args.get("close_code"), 1013))
        if not att:
            wb.send_text("error " + err)
            wb.close(1011, "attach failed")
            return
        atts.append(att)
    channels.send(wb, "ready")
    while True:
        data, typ, err = wb.recv_message()
        if data is None or typ == "close":
            ngx.log(ngx.INFO, "room ended: ", err or typ)
            return
        if typ != "text":
            continue
        if data == "!stats":
            channels.send(wb, "stats " + json.dumps([{"channel": a.channel, "dropped": a.dropped, "offset": a.offset,
                                                 "epoch": a.epoch, "recovered": a.recovered, "gap": a.gap}
                                                for a in atts]))
        elif data == "!detach":
            for a in atts:
                a.detach()
            channels.send(wb, "detached")
        else:
            ok, err = channels.publish(names[0], data)
            if not ok:
                channels.send(wb, "error " + err)


def pub():
    """HTTP: publish ?data= to ?ch= (?n= times, each with its number appended when n > 1, ?size= pads)."""
    args = _args()
    n = _int(args.get("n"), 1)
    data = args.get("data") or ""
    size = _int(args.get("size"), 0)
    for i in range(n):
        text = data if n == 1 else "%s%d" % (data, i)
        if size:
            text = text.ljust(size, ".")
        ok, err = channels.publish(args.get("ch") or "room", text if not args.get("binary") else text.encode())
        if not ok:
            ngx.say("error ", err)
            return
    ngx.say("ok")


def sub():
    """HTTP: subscribe to ?ch= (with ?since= / ?epoch=), receive ?n= messages (?timeout= ms each), answer JSON."""
    args = _args()
    s, err = channels.subscribe(args.get("ch") or "room", since=_int(args.get("since")), epoch=args.get("epoch"),
                                queue=_int(args.get("queue")), overflow=args.get("overflow") or "drop_oldest",
                                timeout=_int(args.get("timeout"), 2000))
    if not s:
        ngx.say(json.dumps({"error": err}))
        return
    if args.get("ready"):
        ngx.say("subscribed")
        ngx.flush(True)
    got = []
    offsets = []
    err = None
    for _ in range(_int(args.get("n"), 1)):
        data, err = s.receive()
        if data is None:
            break
        got.append(data if isinstance(data, str) else "bytes:" + data.decode())
        offsets.append(s.offset)
    out = {"messages": got, "offsets": offsets, "err": err, "epoch": s.epoch, "recovered": s.recovered,
           "gap": s.gap, "dropped": s.dropped}
    s.unsubscribe()
    data, err2 = s.receive()
    out["after_unsubscribe"] = err2
    ngx.say(json.dumps(out))


def bad():
    """HTTP: the errors of bad calls, one JSON object."""
    out = {}
    out["publish_int_name"] = channels.publish(42, "x")[1]
    out["publish_bad_name"] = channels.publish("a b", "x")[1]
    out["publish_empty_name"] = channels.publish("", "x")[1]
    out["publish_bad_data"] = channels.publish("room", {"a": 1})[1]
    out["publish_too_big"] = channels.publish("room", "x" * 70000)[1]
    out["subscribe_bad_name"] = channels.subscribe("ro\u00f6m")[1]
    out["subscribe_bad_overflow"] = channels.subscribe("room", overflow="never")[1]
    out["subscribe_bad_since"] = channels.subscribe("room", since=-1)[1]
    out["attach_not_ws"] = channels.attach(object(), "room")[1]
    s, _ = channels.subscribe("room")
    s.unsubscribe()
    out["unsubscribe_twice"] = s.unsubscribe()[1]
    ngx.say(json.dumps(out))


def stats():
    """HTTP: this worker's channels.stats() and pid as JSON."""
    out = channels.stats()
    out["pid"] = os.getpid()
    ngx.say(json.dumps(out))
