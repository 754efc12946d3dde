from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
line = sock.receive("*l")[0]
ngx.say("status line: ", line)
while line != b"":
    line = sock.receive("*l")[0]
ngx.say("body: ", sock.receive("*a")[0])
a, b = sock.receive("*a")[:2]
ngx.say(a, " ", b)
a, b = sock.receive(1)[:2]
ngx.say(a, " ", b)
sock.close()
