local sock = ngx.socket.tcp()
do local a, b, c = sock:connect("127.0.0.1", 1) ngx.say(a, " ", b) end
