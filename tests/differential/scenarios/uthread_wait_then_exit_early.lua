local function f(d, name) ngx.sleep(d) ngx.say(name, " done") end
local a = ngx.thread.spawn(f, 0.01, "a")
local b = ngx.thread.spawn(f, 0.05, "b")
ngx.thread.wait(a)
ngx.say("exiting")
ngx.exit(200)
