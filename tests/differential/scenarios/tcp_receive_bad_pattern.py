from cosocket import ngx
sock = ngx.socket.tcp()
sock.connect("127.0.0.1", ngx.var.server_port)
try:
    sock.receive("*x")
    ngx.say("true")
except TypeError as e:
    ngx.say("false ", str(e)[str(e).index("("):])
sock.close()
