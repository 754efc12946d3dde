from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

port = ngx.var.server_port
a = ngx.socket.tcp()
a.connect("127.0.0.1", port)
a.setkeepalive()
b = ngx.socket.tcp()
b.connect("127.0.0.1", port, {"pool": "other"})
show("other pool", b.getreusedtimes())
b.close()
c = ngx.socket.tcp()
c.connect("127.0.0.1", port)
show("same key", c.getreusedtimes())
c.close()
