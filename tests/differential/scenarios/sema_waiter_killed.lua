local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local a = ngx.thread.spawn(function() sema:wait(1) ngx.say("a: never") end)
local b = ngx.thread.spawn(function() local ok = sema:wait(1) ngx.say("b: ", ok) end)
ngx.say("count: ", sema:count())
ngx.thread.kill(a)
sema:post()
ngx.thread.wait(b)
ngx.say("count: ", sema:count())
