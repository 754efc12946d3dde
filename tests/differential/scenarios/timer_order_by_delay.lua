local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local order = {}
local function cb(premature, name)
    order[#order + 1] = name
    sema:post()
end
ngx.timer.at(0.03, cb, "c")
ngx.timer.at(0.01, cb, "a")
ngx.timer.at(0.02, cb, "b")
for i = 1, 3 do sema:wait(1) end
ngx.say(table.concat(order, " "))
