from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

sock = ngx.socket.tcp()
sock.settimeouts(1000, 1000, 30)
show("connect", sock.connect("127.0.0.1", ngx.var.server_port))
show("receive", sock.receive())
show("receiveany", sock.receiveany(5))
show("iterator", sock.receiveuntil("z")())
show("close", sock.close())
