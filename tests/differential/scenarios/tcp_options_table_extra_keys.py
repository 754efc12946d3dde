from cosocket import ngx
sock = ngx.socket.tcp()
ok, err = sock.connect("127.0.0.1", ngx.var.server_port, {"pool": "x", "ssl": False, "foo": 1})
ngx.say("connect: ", ok, " ", err)
r = sock.receiveuntil("x", {"inclusive": False, "other": 1})
ngx.say("reader: ", "function" if callable(r) else type(r).__name__)
ok, err = sock.setkeepalive()
ngx.say("keepalive: ", ok, " ", err)
