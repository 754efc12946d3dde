local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
local t = ngx.thread.spawn(function()
    local line = sock:receive()
    show("reader", line)
end)
show("send", sock:send("GET /t/upstream_print?b=dup HTTP/1.0\r\nHost: x\r\n\r\n"))
ngx.thread.wait(t)
sock:close()
