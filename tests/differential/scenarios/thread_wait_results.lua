local t = ngx.thread.spawn(function(a, b) return a + b, "two", nil, 4 end, 1, 2)
ngx.say(ngx.thread.wait(t))
