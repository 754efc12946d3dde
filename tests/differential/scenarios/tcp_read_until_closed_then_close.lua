local sock = ngx.socket.tcp()
do local a, b, c = sock:connect("127.0.0.1", ngx.var.server_port) ngx.say("connect: ", a, " ", b) end
do local a, b, c = sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n") ngx.say("send: ", a, " ", b) end
while true do
    local line, err = sock:receive()
    if not line then
        ngx.say("receive: ", err)
        break
    end
end
do local a, b, c = sock:close() ngx.say("close: ", a, " ", b) end
do local a, b, c = sock:close() ngx.say("close again: ", a, " ", b) end
