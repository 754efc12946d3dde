from cosocket import ngx
sock = ngx.socket.tcp()
a, b = sock.connect("", 80)[:2]
ngx.say(a, " ", b)
