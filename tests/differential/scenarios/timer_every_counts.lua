local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local n = 0
ngx.say("pending before: ", ngx.timer.pending_count())
ngx.timer.every(0.01, function(premature)
    n = n + 1
    if n <= 3 then sema:post() end
end)
ngx.say("pending: ", ngx.timer.pending_count())
for i = 1, 3 do sema:wait(1) end
ngx.say("ticks: ", n >= 3)
