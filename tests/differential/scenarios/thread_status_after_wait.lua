local t = ngx.thread.spawn(function() ngx.sleep(0.01) end)
ngx.say(coroutine.status(t))
ngx.thread.wait(t)
ngx.say(coroutine.status(t))
