from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_print?b=------abd----abc HTTP/1.0\r\nHost: x\r\n\r\n")
sock.receiveuntil("\r\n\r\n")()

reader1 = sock.receiveuntil("--abc")
reader2 = sock.receiveuntil("-ab")
show("r1(2)", reader1(2))
show("receive(1)", sock.receive(1))
show("r1(1)", reader1(1))
show("r2(2)", reader2(2))
show("r1()", reader1())
show("r1()", reader1())
show("close", sock.close())
