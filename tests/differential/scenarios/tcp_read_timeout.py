from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.settimeout(20)
data, err, partial = sock.receive()
ngx.say(data, " ", err)
sent, err = sock.send("G")
ngx.say("send after timeout: ", sent, " ", err)
sock.close()
