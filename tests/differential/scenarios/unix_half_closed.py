from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

sock = ngx.socket.tcp()
show("connect", sock.connect("unix:" + ngx.config.prefix() + "unix.sock"))
show("send", sock.send("GET /t/upstream_print?b=viaunix HTTP/1.0\r\nHost: x\r\n\r\n"))
show("status", sock.receive())
rest = sock.receive("*a")
show("rest", (rest[0][-8:],) + rest[1:])
show("more", sock.receive(1))
show("send", sock.send("x"))
show("close", sock.close())
