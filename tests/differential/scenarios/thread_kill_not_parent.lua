local t1, t2
t1 = ngx.thread.spawn(function() ngx.sleep(0.05) end)
t2 = ngx.thread.spawn(function() ngx.say("kill: ", ngx.thread.kill(t1)) end)
ngx.thread.wait(t2)
ngx.thread.kill(t1)
