ngx.say("before")
local t = ngx.thread.spawn(function() ngx.say("in thread") end)
ngx.say("after")
