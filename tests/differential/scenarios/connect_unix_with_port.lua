local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local sock = ngx.socket.tcp()
show("connect", sock:connect("unix:/nonexistent-dir/x.sock", 1234))
show("connect no port", sock:connect("unix:/nonexistent-dir/x.sock"))
