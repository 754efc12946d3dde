local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local sock = ngx.socket.tcp()
sock:settimeouts(1000, 1000, 30)
show("connect", sock:connect("127.0.0.1", ngx.var.server_port))
show("receive", sock:receive())
local d, e = sock:receiveany(5)
show("receiveany", d, e)
show("iterator", sock:receiveuntil("z")())
show("close", sock:close())
