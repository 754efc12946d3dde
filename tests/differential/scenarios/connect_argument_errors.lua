local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local sock = ngx.socket.tcp()
show("no port", sock:connect("127.0.0.1"))
show("bad port", sock:connect("127.0.0.1", 65536))
show("empty host", sock:connect("", 80))
