from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_print?b=hello--worldxx--end HTTP/1.0\r\nHost: x\r\n\r\n")
sock.receiveuntil("\r\n\r\n")()

reader = sock.receiveuntil("--", {"inclusive": True})
for i in range(6):
    show("r(3)", reader(3))
show("rest", sock.receive("*a"))
