local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local seen
ngx.timer.at(0, function()
    seen = ngx.timer.running_count()
    sema:post()
end)
sema:wait(1)
ngx.say("running inside: ", seen)
