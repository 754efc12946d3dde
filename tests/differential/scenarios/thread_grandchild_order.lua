local function g()
    ngx.say("g: start")
    ngx.sleep(0.01)
    ngx.say("g: end")
end
local function f()
    ngx.say("f: start")
    ngx.thread.spawn(g)
    ngx.say("f: after g")
end
ngx.thread.spawn(f)
ngx.say("main: after f")
