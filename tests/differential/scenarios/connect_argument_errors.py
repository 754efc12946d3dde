from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

sock = ngx.socket.tcp()
show("no port", sock.connect("127.0.0.1"))
show("bad port", sock.connect("127.0.0.1", 65536))
show("empty host", sock.connect("", 80))
