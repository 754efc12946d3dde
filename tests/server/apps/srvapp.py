"""Handlers used by the server tests (content_by_python srvapp:NAME)."""
import json

from cosocket import ngx


def hello():
    ngx.say("hello")


def echo_info():
    """Everything the request API reports, as JSON."""
    headers = ngx.req.get_headers()
    ngx.req.read_body()
    body = ngx.req.get_body_data()
    info = {
        "method": ngx.req.get_method(),
        "version": ngx.req.http_version(),
        "uri_args": ngx.req.get_uri_args(),
        "headers": dict(headers),
        "x_test_ci": headers["X-TEST"] if "X-Test" in headers else None,
        "body": body.decode() if body is not None else None,
        "var": {name: ngx.var[name] for name in (
            "uri", "request_uri", "args", "host", "scheme", "request_method", "server_protocol",
            "remote_addr", "remote_port", "server_addr", "server_port", "server_name", "request_id",
            "http_user_agent", "arg_a", "connection_requests", "ssl_client_verify", "ssl_server_name")},
    }
    ngx.header["Content-Type"] = "application/json"
    ngx.print(json.dumps(info))


def ctx_status():
    ngx.ctx["n"] = 1
    ngx.ctx["n"] += 1
    ngx.status = 201
    ngx.header.x_multi = ["a", "b"]
    ngx.header["X-Gone"] = "soon"
    ngx.header["X-Gone"] = None
    ngx.header.content_type = None
    ngx.say("ctx=", ngx.ctx["n"], " status=", ngx.status)


def late_status():
    ngx.say("body")
    ngx.flush(True)
    ngx.status = 404  # logs an error, changes nothing
    ngx.header["X-Late"] = "1"
    ngx.say("sent=", ngx.headers_sent, " again=", ngx.send_headers()[0])


def late_exit():
    """ngx.exit(404) after the head went out: logged (with the request's context), status unchanged."""
    ngx.say("body")
    ngx.flush(True)
    ngx.exit(404)


def stream():
    ngx.say("part1")
    ok, err = ngx.flush(True)
    ngx.say("flush=", ok, ",", err)
    ngx.say("part2")


def boom():
    ngx.say("never sent")
    raise ValueError("boom from the handler")


def exit444():
    ngx.say("never sent")
    ngx.exit(444)


def exit_code():
    code = int(ngx.var.arg_code)
    ngx.exit(code)


def exit_ok():
    ngx.say("before")
    ngx.exit(ngx.OK)
    ngx.say("after")  # not reached


def redirect():
    ngx.redirect("/elsewhere", 301)


def raw_echo():
    """A raw request socket: write a head ourselves, then echo lines until "quit"."""
    ngx.status = 101
    ngx.header["Upgrade"] = "test"
    ngx.send_headers()
    ok, err = ngx.flush(True)
    sock, err = ngx.req.socket(True)
    if sock is None:
        ngx.log(ngx.ERR, "no raw socket: ", err)
        return
    sock2, err2 = ngx.req.socket(True)
    sock.send("dup=%s\n" % err2)
    while True:
        line, err, _ = sock.receive("*l")
        if line is None or line == b"quit":
            return
        sock.send(b"echo:" + line + b"\n")


def say_after_raw():
    sock, err = ngx.req.socket(True)
    ok, err = ngx.say("x")
    sock.send("say=%s,%s\n" % (ok, err))


def body_reader():
    sock, err = ngx.req.socket()
    if sock is None:
        ngx.say("err=", err)
        return
    data, err, _ = sock.receive(5)
    rest, err2, _ = sock.receive("*a")
    ngx.say("first=", data, " rest=", rest)


def big():
    ngx.print("x" * 200000)


def log_line():
    ngx.log(ngx.WARN, "custom warning ", 42)
    ngx.log(ngx.DEBUG, "not written at the info level")
    ngx.say("logged")


def slow():
    ngx.sleep(float(ngx.var.arg_t or "0.3"))
    ngx.say("slow done")


def pid():
    import os
    ngx.say(os.getpid())


def worker_info():
    ngx.say(ngx.worker.id(), " ", ngx.worker.count())


def shared_dict():
    d = ngx.shared.cache
    d.set("k", 1)
    ok, err, _ = d.add("k", 2)
    v, _err, _forcible = d.incr("k", 5)
    ngx.say(ok, " ", err, " ", v, " ", d.get("k")[0])


def on_abort_handler():
    def aborted():
        ngx.log(ngx.NOTICE, "client went away")
    ok, err = ngx.on_abort(aborted)
    ngx.say("on_abort=", ok, ",", err)
    ngx.flush(True)
    ngx.sleep(0.5)


init_worker_ran = []


def init_worker():
    init_worker_ran.append(ngx.worker.id())


def init_worker_value():
    ngx.say("init_worker=", init_worker_ran)


def ws_echo():
    """A WebSocket echo through the server module (integration smoke test)."""
    from websocket import server
    wb, err = server.new(timeout=2000, max_payload_len=65535)
    if wb is None:
        ngx.log(ngx.ERR, "failed to new websocket: ", err)
        return ngx.exit(444)
    while True:
        data, typ, err = wb.recv_frame()
        if data is None or typ == "close":
            wb.send_close()
            return
        if typ == "text":
            wb.send_text(data)


def exiting_hook():
    from cosocket.server import worker
    worker.on_exiting(lambda: ngx.log(ngx.NOTICE, "hook saw exiting=", ngx.worker.exiting()))
    ngx.say("registered")


def shared_set():
    """/shset?k=K&v=V: set in ngx.shared.cache; answers the worker id."""
    ok, err, forcible = ngx.shared.cache.set(ngx.var.arg_k, ngx.var.arg_v)
    ngx.say(ngx.worker.id(), " ", ok, " ", err)


def shared_get():
    """/shget?k=K: answers "<worker id> <value>"."""
    value, _flags = ngx.shared.cache.get(ngx.var.arg_k)
    ngx.say(ngx.worker.id(), " ", value)


def shared_incr():
    """/shincr: one shared counter for all workers."""
    value, err, _forcible = ngx.shared.cache.incr("hits", 1, 0)
    ngx.say(value)


def init_shared():
    """init_by_python: the master writes into a zone before forking, as init_by_lua can."""
    ngx.shared.cache.set("boot", "from init")


def init_count():
    """init_by_python: counts its runs in a zone (nginx runs init_by_lua* at start and on every reload)."""
    ngx.shared.cache.incr("init_runs", 1, 0)


def flood():
    """Stream 64 KiB chunks with ngx.flush(True) until a send fails; log why."""
    chunk = "x" * 65536
    for i in range(4000):
        ngx.print(chunk)
        ok, err = ngx.flush(True)
        if not ok:
            ngx.log(ngx.ERR, "flood stopped after ", i, " chunks: ", err)
            return
    ngx.log(ngx.ERR, "flood was never stopped")


def body_len():
    ngx.req.read_body()
    body = ngx.req.get_body_data()
    ngx.say("body=", len(body or b""))
    ngx.log(ngx.ERR, "body_len reached the end")


def init_fails():
    """init_by_python / init_worker_by_python that raises."""
    raise RuntimeError("init failed on purpose")
