local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local out = {}
local port = ngx.var.server_port
ngx.timer.at(0, function()
    local sock = ngx.socket.tcp()
    sock:connect("127.0.0.1", port)
    sock:send("GET /t/upstream_print?b=w HTTP/1.0\r\nHost: x\r\n\r\n")
    sock:receive("*a")
    local d, err = sock:receive(1)
    out[#out + 1] = "receive: " .. tostring(d) .. " " .. tostring(err)
    local n, err = sock:send("q")
    out[#out + 1] = "send: " .. tostring(n) .. " " .. tostring(err)
    local ok, err = sock:close()
    out[#out + 1] = "close: " .. tostring(ok) .. " " .. tostring(err)
    sema:post()
end)
sema:wait(2)
ngx.say(table.concat(out, "\n"))
