from cosocket import ngx
sock = ngx.socket.tcp()
a, b = sock.connect("127.0.0.1", ngx.var.server_port)
ngx.say("connect: ", a, " ", b)
a, b = sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")[:2]
ngx.say("send: ", a, " ", b)
while True:
    line, err, _ = sock.receive()
    if line is None:
        ngx.say("receive: ", err)
        break
a, b = sock.close()[:2]
ngx.say("close: ", a, " ", b)
a, b = sock.close()[:2]
ngx.say("close again: ", a, " ", b)
