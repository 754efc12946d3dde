local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
local data = sock:receiveany(4)
ngx.say(data)
sock:receive("*a")
do local a, b, c = sock:receiveany(10) ngx.say(a, " ", b) end
sock:close()
