local total = 0
for i = 1, 20 do
    local t = ngx.thread.spawn(function(x) if x % 2 == 0 then ngx.sleep(0.001) end return x end, i)
    local ok, v = ngx.thread.wait(t)
    total = total + v
end
ngx.say("total: ", total)
