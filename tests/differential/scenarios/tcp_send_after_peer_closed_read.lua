local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
local data = sock:receive("*a")
do local a, b, c = sock:receive() ngx.say("receive: ", a, " ", b) end
do local a, b, c = sock:receiveany(1) ngx.say("receiveany: ", a, " ", b) end
do local a, b, c = sock:close() ngx.say("close: ", a, " ", b) end
