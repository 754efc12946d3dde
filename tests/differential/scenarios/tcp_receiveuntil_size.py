from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
sock.receiveuntil("\r\n\r\n")()
r = sock.receiveuntil("rld")
while True:
    data, err, partial = r(3)
    if data is None:
        ngx.say("err: ", err, " partial: ", partial)
        break
    ngx.say("read: ", data)
sock.close()
