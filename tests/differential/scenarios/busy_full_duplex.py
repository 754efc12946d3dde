from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
def f():
    line = sock.receive()[0]
    show("reader", (line,))
t = ngx.thread.spawn(f)
show("send", sock.send("GET /t/upstream_print?b=dup HTTP/1.0\r\nHost: x\r\n\r\n"))
ngx.thread.wait(t)
sock.close()
