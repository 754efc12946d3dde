from cosocket import ngx
def show(label, r):
    r = tuple(r) + (None,) * (3 - len(r))
    ngx.say(label, ": ", r[0], " ", r[1], " ", r[2])

sock = ngx.socket.tcp()
show("connect", sock.connect("unix:/nonexistent-dir/x.sock", 1234))
show("connect no port", sock.connect("unix:/nonexistent-dir/x.sock"))
