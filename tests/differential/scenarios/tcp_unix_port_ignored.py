from cosocket import ngx
sock = ngx.socket.tcp()
a, b = sock.connect("unix:/nonexistent/sock", 80)[:2]
ngx.say(a, " ", b)
