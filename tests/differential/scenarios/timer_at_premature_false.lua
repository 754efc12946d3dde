local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local got
local ok, err = ngx.timer.at(0, function(premature, a, b)
    got = {premature, a, b, ngx.get_phase()}
    sema:post()
end, "x", 2)
ngx.say("at: ", ok, " ", err)
sema:wait(1)
ngx.say("premature: ", got[1], " args: ", got[2], " ", got[3], " phase: ", got[4])
