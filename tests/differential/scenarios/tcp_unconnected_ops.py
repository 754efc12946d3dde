from cosocket import ngx
sock = ngx.socket.tcp()
a, b = sock.send("x")[:2]
ngx.say("send: ", a, " ", b)
a, b = sock.receive()[:2]
ngx.say("receive: ", a, " ", b)
a, b = sock.close()[:2]
ngx.say("close: ", a, " ", b)
a, b = sock.setkeepalive()[:2]
ngx.say("keepalive: ", a, " ", b)
a, b = sock.getreusedtimes()[:2]
ngx.say("reused: ", a, " ", b)
