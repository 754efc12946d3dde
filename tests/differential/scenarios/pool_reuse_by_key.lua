local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local port = ngx.var.server_port
local a = ngx.socket.tcp()
a:connect("127.0.0.1", port)
a:setkeepalive()
local b = ngx.socket.tcp()
b:connect("127.0.0.1", port, {pool = "other"})
show("other pool", b:getreusedtimes())
b:close()
local c = ngx.socket.tcp()
c:connect("127.0.0.1", port)
show("same key", c:getreusedtimes())
c:close()
