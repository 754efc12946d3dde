local n = 0
local function bump() n = n + 1 end
bump() bump()
ngx.say("n: ", n)
