local function get()
    local sock = ngx.socket.tcp()
    local ok, err = sock:connect("127.0.0.1", ngx.var.server_port, {pool = "p1"})
    do local a, b, c = sock:getreusedtimes() ngx.say("reused: ", a, " ", b) end
    return sock
end
local sock = get()
local ok, err = sock:setkeepalive()
ngx.say("keepalive: ", ok, " ", err)
local bytes, err = sock:send("x")
ngx.say("after keepalive send: ", bytes, " ", err)
sock = get()
sock:setkeepalive()
sock = get()
sock:close()
sock = get()
sock:close()
