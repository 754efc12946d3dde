ngx.say(pcall(ngx.timer.every, 0, function() end))
