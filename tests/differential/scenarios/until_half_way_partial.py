from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_print?b=ab1ab1 HTTP/1.0\r\nHost: x\r\n\r\n")
sock.receiveuntil("\r\n\r\n")()

reader = sock.receiveuntil("ab1ab2")
show("reader(2)", reader(2))
show("receive(3)", sock.receive(3))
show("close", sock.close())
