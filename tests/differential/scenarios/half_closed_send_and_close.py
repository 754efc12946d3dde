from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_print?b=x HTTP/1.0\r\nHost: x\r\n\r\n")
sock.receiveuntil("\r\n\r\n")()

show("all", sock.receive("*a"))
show("all again", sock.receive("*a"))
show("line", sock.receive())
show("line again", sock.receive())
show("send", sock.send("ping"))
show("reused", sock.getreusedtimes())
show("keepalive", sock.setkeepalive())
show("close", sock.close())
show("close again", sock.close())
