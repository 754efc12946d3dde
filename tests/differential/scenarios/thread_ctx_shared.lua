ngx.ctx.n = 1
local t = ngx.thread.spawn(function() ngx.ctx.n = ngx.ctx.n + 1 end)
ngx.thread.wait(t)
ngx.say("n: ", ngx.ctx.n)
