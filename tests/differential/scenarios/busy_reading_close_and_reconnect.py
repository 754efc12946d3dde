from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.settimeout(100)
t = ngx.thread.spawn(lambda: show("reader", sock.receive()))
show("second reader", sock.receive())
show("receiveany", sock.receiveany(1))
show("iterator", sock.receiveuntil("x")())
show("close", sock.close())
show("keepalive", sock.setkeepalive())
show("connect", sock.connect("127.0.0.1", ngx.var.server_port))
ngx.thread.wait(t)
show("close", sock.close())
