ngx.say(pcall(ngx.sleep, -1))
ngx.say(pcall(ngx.sleep, -0.5))
local ok, err = pcall(ngx.sleep, "x")
ngx.say(ok, " ", err:sub(-31))
