local semaphore = require "ngx.semaphore"
local sema = semaphore.new(2)
for i = 1, 3 do
    local ok, err = sema:wait(0)
    ngx.say(ok, " ", err)
end
ngx.say("count: ", sema:count())
