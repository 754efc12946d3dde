local sock = ngx.socket.tcp()
sock:connect("127.0.0.1", ngx.var.server_port)
sock:send("GET /t/upstream_hello HTTP/1.0\r\nHost: x\r\n\r\n")
sock:receiveuntil("\r\n\r\n")()
local r = sock:receiveuntil("rld")
while true do
    local data, err, partial = r(3)
    if not data then ngx.say("err: ", err, " partial: ", partial) break end
    ngx.say("read: ", data)
end
sock:close()
