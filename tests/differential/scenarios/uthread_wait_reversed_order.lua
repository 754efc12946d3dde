local function f(d, name) ngx.sleep(d) ngx.say(name, " done") return name end
local a = ngx.thread.spawn(f, 0.02, "a")
local b = ngx.thread.spawn(f, 0.01, "b")
ngx.say("wait a: ", select(2, ngx.thread.wait(a)))
ngx.say("wait b: ", select(2, ngx.thread.wait(b)))
