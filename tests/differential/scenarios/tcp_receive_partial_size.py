from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
whole = sock.receive("*a")[0]
sock.close()
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
data, err, partial = sock.receive(len(whole) + 5)
ngx.say(data, " ", err, " ", len(partial) == len(whole))
