local function show(label, a, b, c)
    ngx.say(label, ": ", a, " ", b, " ", c)
end

local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
show("send", sock:send({"GET /t/upstream_print?b=", {"tab", "le"}, " HTTP/1.0\r\n", "Host: x\r\n\r\n"}))
show("zero", sock:receive(0))
sock:receiveuntil("\r\n\r\n")()
show("body", sock:receive())
show("empty send", sock:send(""))
sock:close()
