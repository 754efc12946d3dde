local t = ngx.thread.spawn(function() return "done" end)
ngx.say(ngx.thread.wait(t))
ngx.say(ngx.thread.wait(t))
