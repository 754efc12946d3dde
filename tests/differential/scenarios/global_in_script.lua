counter = 5
local function bump() counter = counter + 1 end
bump()
ngx.say("counter: ", counter)
