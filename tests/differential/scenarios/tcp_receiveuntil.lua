local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
local reader = sock:receiveuntil("\r\n\r\n")
local head = reader()
ngx.say("head ends with Close: ", head:sub(-17))
local body_reader = sock:receiveuntil("o", {inclusive = true})
do local a, b, c = body_reader() ngx.say(a, " ", b) end
do local a, b, c = body_reader() ngx.say(a, " ", b) end
do local a, b, c = body_reader() ngx.say(a, " ", b) end
sock:close()
