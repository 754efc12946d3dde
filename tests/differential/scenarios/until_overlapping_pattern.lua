local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end
local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_print?b=aaabaaab HTTP/1.0\r\nHost: x\r\n\r\n")
sock:receiveuntil("\r\n\r\n")()

local reader = sock:receiveuntil("aab")
show("r()", reader())
show("r()", reader())
show("r()", reader())
