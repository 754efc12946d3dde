local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local ok, err = ngx.timer.every(0.005, function(premature, tag)
    sema:post()
end, "t")
ngx.say("every: ", ok, " ", err)
ngx.say("wait: ", sema:wait(1))
ngx.say("wait: ", sema:wait(1))
