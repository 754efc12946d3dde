local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local out = {}
ngx.timer.at(0, function()
    local t = ngx.thread.spawn(function() out[#out + 1] = "thread" return 7 end)
    out[#out + 1] = "timer"
    local ok, v = ngx.thread.wait(t)
    out[#out + 1] = tostring(v)
    sema:post()
end)
sema:wait(1)
ngx.say(table.concat(out, " "))
