local t = ngx.thread.spawn(function() return 1 end)
ngx.say(ngx.thread.kill(t))
