local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local out = {}
local port = ngx.var.server_port
ngx.timer.at(0, function()
    for i = 1, 3 do
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("127.0.0.1", port, {pool = "timer-pool"})
        out[#out + 1] = "reused " .. sock:getreusedtimes()
        sock:setkeepalive()
    end
    sema:post()
end)
sema:wait(1)
ngx.say(table.concat(out, ", "))
