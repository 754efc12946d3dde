from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
sock.settimeout(5000)
sock.settimeout(None)
data, err, _ = sock.receive()
ngx.say(data, " ", err)
sock.close()
