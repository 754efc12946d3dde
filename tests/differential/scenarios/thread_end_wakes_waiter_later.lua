local t
local function child()
    ngx.sleep(0.01)
    ngx.say("child: ending")
end
local function other()
    ngx.sleep(0.01)
    ngx.say("other: woke")
end
t = ngx.thread.spawn(child)
ngx.thread.spawn(other)
ngx.thread.wait(t)
ngx.say("main: waited")
