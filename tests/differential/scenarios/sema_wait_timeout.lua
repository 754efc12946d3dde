local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local ok, err = sema:wait(0.01)
ngx.say(ok, " ", err)
ok, err = sema:wait(0)
ngx.say(ok, " ", err)
ngx.say("count: ", sema:count())
