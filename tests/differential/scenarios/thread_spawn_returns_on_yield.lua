local function f()
    ngx.say("f: 1")
    ngx.sleep(0.01)
    ngx.say("f: 2")
end
local t = ngx.thread.spawn(f)
ngx.say("spawned")
local ok = ngx.thread.wait(t)
ngx.say("waited: ", ok)
