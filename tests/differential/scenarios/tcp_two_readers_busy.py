from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
def f():
    a, b = sock.receive()[:2]
    ngx.say("reader 1: ", a, " ", b)
t = ngx.thread.spawn(f)
a, b = sock.receive()[:2]
ngx.say("reader 2: ", a, " ", b)
a, b = sock.close()[:2]
ngx.say("close: ", a, " ", b)
sock.send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
ngx.thread.wait(t)
a, b = sock.close()[:2]
ngx.say("close: ", a, " ", b)
