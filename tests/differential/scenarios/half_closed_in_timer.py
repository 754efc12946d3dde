from cosocket import ngx
sema = ngx.semaphore.new()[0]
out = []
port = ngx.var.server_port
def cb(premature):
    sock = ngx.socket.tcp()
    sock.connect("127.0.0.1", port)
    sock.send("GET /t/upstream_print?b=w HTTP/1.0\r\nHost: x\r\n\r\n")
    sock.receive("*a")
    d, err, _ = sock.receive(1)
    out.append("receive: %s %s" % (d, err))
    n, err = sock.send("q")
    out.append("send: %s %s" % (n, err))
    ok, err = sock.close()
    out.append("close: %s %s" % (ok, err))
    sema.post()
ngx.timer.at(0, cb)
sema.wait(2)
ngx.say("\n".join(out).replace("None", "nil"))
