local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local out = {}
ngx.timer.at(0, function()
    local t = ngx.thread.spawn(function() ngx.sleep(0.01) out[#out + 1] = "thread never" end)
    ngx.timer.at(0.02, function() sema:post() end)
    out[#out + 1] = "before exit"
    ngx.exit(403)
end)
sema:wait(1)
ngx.say(table.concat(out, ", "))
