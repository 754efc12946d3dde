local function sleeper(d, name) ngx.sleep(d) return name end
local a = ngx.thread.spawn(sleeper, 0.05, "slow")
local b = ngx.thread.spawn(sleeper, 0.01, "fast")
ngx.say(ngx.thread.wait(a, b))
ngx.say(ngx.thread.wait(a, b))
