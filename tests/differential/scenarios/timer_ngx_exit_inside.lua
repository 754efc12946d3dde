local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local out = {}
ngx.timer.at(0, function()
    ngx.timer.at(0, function() out[#out + 1] = "second" sema:post() end)
    out[#out + 1] = "first"
    ngx.exit(0)
    out[#out + 1] = "never"
end)
sema:wait(1)
ngx.say(table.concat(out, " "))
