local sock = ngx.socket.tcp()
do local a, b, c = sock:connect("unix:/nonexistent/sock", 80) ngx.say(a, " ", b) end
