from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
data = sock.receiveany(4)[0]
ngx.say(data)
sock.receive("*a")
a, b = sock.receiveany(10)[:2]
ngx.say(a, " ", b)
sock.close()
