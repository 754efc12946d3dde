local semaphore = require "ngx.semaphore"
local sema = semaphore.new()
local out = {}
local function step(premature, n)
    out[#out + 1] = "step " .. n
    if n < 3 then
        ngx.timer.at(0, step, n + 1)
    else
        sema:post()
    end
end
ngx.timer.at(0, step, 1)
out[#out + 1] = "armed"
sema:wait(1)
ngx.say(table.concat(out, ", "))
