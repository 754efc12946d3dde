local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local t = ngx.thread.spawn(function()
local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_print?b=y HTTP/1.0\r\nHost: x\r\n\r\n")
sock:receiveuntil("\r\n\r\n")()

    show("line", sock:receive())
    show("line", sock:receive())
    show("send", sock:send("z"))
    show("close", sock:close())
end)
ngx.thread.wait(t)
