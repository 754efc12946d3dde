local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
local line = sock:receive("*l")
ngx.say("status line: ", line)
repeat line = sock:receive("*l") until line == ""
ngx.say("body: ", (sock:receive("*a")))
do local a, b, c = sock:receive("*a") ngx.say(a, " ", b) end
do local a, b, c = sock:receive(1) ngx.say(a, " ", b) end
sock:close()
