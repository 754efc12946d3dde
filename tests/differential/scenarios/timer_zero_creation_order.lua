local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local order = {}
for i = 1, 4 do
    ngx.timer.at(0, function() order[#order + 1] = i sema:post() end)
end
for i = 1, 4 do sema:wait(1) end
ngx.say(table.concat(order, " "))
