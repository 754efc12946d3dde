local t = ngx.thread.spawn(function()
    local g = ngx.thread.spawn(function() return "g" end)
    return select(2, ngx.thread.wait(g)) .. "+t"
end)
ngx.say(select(2, ngx.thread.wait(t)))
local ok, err = pcall(ngx.thread.wait, ngx.thread.spawn(function() end), 1)
ngx.say("bad arg: ", ok)
