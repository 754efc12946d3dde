from cosocket import ngx
sock = ngx.socket.tcp()
a, b = sock.connect("127.0.0.1", 1)[:2]
ngx.say(a, " ", b)
