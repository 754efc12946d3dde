local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local sock = ngx.socket.tcp()
show("connect", sock:connect("unix:" .. ngx.config.prefix() .. "unix.sock"))
show("send", sock:send("GET /t/upstream_print?b=viaunix HTTP/1.0\r\nHost: x\r\n\r\n"))
show("status", sock:receive())
local rest, err = sock:receive("*a")
show("rest", rest:sub(-8), err)
show("more", sock:receive(1))
show("send", sock:send("x"))
show("close", sock:close())
