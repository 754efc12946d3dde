from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
reader = sock.receiveuntil("\r\n\r\n")
head = reader()[0]
ngx.say("head ends with Close: ", head[-17:])
body_reader = sock.receiveuntil("o", {"inclusive": True})
a, b = body_reader()[:2]
ngx.say(a, " ", b)
a, b = body_reader()[:2]
ngx.say(a, " ", b)
a, b = body_reader()[:2]
ngx.say(a, " ", b)
sock.close()
