from cosocket import ngx
def get():
    sock = ngx.socket.tcp()
    ok, err = sock.connect("127.0.0.1", ngx.var.server_port, {"pool": "p1"})
    a, b = sock.getreusedtimes()
    ngx.say("reused: ", a, " ", b)
    return sock
sock = get()
ok, err = sock.setkeepalive()
ngx.say("keepalive: ", ok, " ", err)
sent, err = sock.send("x")
ngx.say("after keepalive send: ", sent, " ", err)
sock = get()
sock.setkeepalive()
sock = get()
sock.close()
sock = get()
sock.close()
