from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
data = sock.receive("*a")
a, b = sock.receive()[:2]
ngx.say("receive: ", a, " ", b)
a, b = sock.receiveany(1)[:2]
ngx.say("receiveany: ", a, " ", b)
a, b = sock.close()[:2]
ngx.say("close: ", a, " ", b)
