local semaphore = require "ngx.semaphore"
local sema = semaphore.new(0)
for i = 1, 3 do
    ngx.thread.spawn(function()
        ngx.say("waiting: ", i)
        local ok = sema:wait(1)
        ngx.say("woke: ", i, " ", ok)
    end)
end
ngx.say("count: ", sema:count())
sema:post(3)
ngx.say("posted")
ngx.sleep(0.01)
