local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end
local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_print?b=abcdefab HTTP/1.0\r\nHost: x\r\n\r\n")
sock:receiveuntil("\r\n\r\n")()

local reader = sock:receiveuntil("abx")
show("r()", reader())
show("r()", reader())
show("send", sock:send("x"))
show("close", sock:close())
