local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local n = 0
local base = ngx.timer.pending_count()  -- timers of other requests of this worker
ngx.timer.every(0.01, function(premature)
    n = n + 1
    if n <= 3 then sema:post() end
end)
ngx.say("pending added: ", ngx.timer.pending_count() - base)
for i = 1, 3 do sema:wait(1) end
ngx.say("ticks: ", n >= 3)
