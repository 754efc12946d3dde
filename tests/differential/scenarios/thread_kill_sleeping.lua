local t = ngx.thread.spawn(function() ngx.sleep(1) ngx.say("never") end)
ngx.say("kill: ", ngx.thread.kill(t))
ngx.say("kill again: ", select(2, ngx.thread.kill(t)))
ngx.say("wait: ", select(2, ngx.thread.wait(t)))
