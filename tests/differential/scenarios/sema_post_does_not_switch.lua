local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
ngx.thread.spawn(function()
    local ok, err = sema:wait(1)
    ngx.say("wait success: ", ok)
end)
for i = 1, 3 do
    sema:post(1)
    ngx.say("post: ", i)
end
ngx.sleep(0.01)
ngx.say("count: ", sema:count())
