local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
local t = ngx.thread.spawn(function()
    do local a, b, c = sock:receive() ngx.say("reader 1: ", a, " ", b) end
end)
do local a, b, c = sock:receive() ngx.say("reader 2: ", a, " ", b) end
do local a, b, c = sock:close() ngx.say("close: ", a, " ", b) end
sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
ngx.thread.wait(t)
do local a, b, c = sock:close() ngx.say("close: ", a, " ", b) end
