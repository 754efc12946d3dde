local t = ngx.thread.spawn(function() error("boom", 0) end)
local ok, err = ngx.thread.wait(t)
ngx.say("ok: ", ok)
