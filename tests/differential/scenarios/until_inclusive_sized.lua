local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end
local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_print?b=hello--worldxx--end HTTP/1.0\r\nHost: x\r\n\r\n")
sock:receiveuntil("\r\n\r\n")()

local reader = sock:receiveuntil("--", {inclusive = true})
for i = 1, 6 do show("r(3)", reader(3)) end
show("rest", sock:receive("*a"))
