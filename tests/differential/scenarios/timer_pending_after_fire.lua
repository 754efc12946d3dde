local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local base = ngx.timer.pending_count()  -- timers of other requests of this worker
ngx.timer.at(0.01, function() sema:post() end)
ngx.timer.at(0.5, function() end)
ngx.say("pending: ", ngx.timer.pending_count() - base, " running: ", ngx.timer.running_count())
sema:wait(1)
ngx.sleep(0.01)
ngx.say("pending: ", ngx.timer.pending_count() - base)
