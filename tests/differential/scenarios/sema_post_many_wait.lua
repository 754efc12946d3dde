local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local order = {}
local threads = {}
for i = 1, 4 do
    threads[i] = ngx.thread.spawn(function()
        local ok, err = sema:wait(0.5)
        order[#order + 1] = i .. ":" .. tostring(ok)
    end)
end
sema:post(2)
ngx.sleep(0.01)
ngx.say(table.concat(order, " "), " count: ", sema:count())
sema:post(2)
for i = 1, 4 do ngx.thread.wait(threads[i]) end
ngx.say(table.concat(order, " "), " count: ", sema:count())
