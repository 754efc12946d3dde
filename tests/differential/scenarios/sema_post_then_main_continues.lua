local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local t = ngx.thread.spawn(function()
    ngx.say("sub: wait")
    sema:wait(1)
    ngx.say("sub: woke")
    return "r"
end)
ngx.say("main: post")
sema:post()
ngx.say("main: posted")
ngx.say("main: waited ", select(2, ngx.thread.wait(t)))
