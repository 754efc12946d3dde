from cosocket import ngx
sema = ngx.semaphore.new()[0]
out = []
port = ngx.var.server_port
def cb(premature):
    for i in range(3):
        sock = ngx.socket.tcp()
        ok, err = sock.connect("127.0.0.1", port, {"pool": "timer-pool"})
        out.append("reused %d" % sock.getreusedtimes()[0])
        sock.setkeepalive()
    sema.post()
ngx.timer.at(0, cb)
sema.wait(1)
ngx.say(", ".join(out))
